"""The SQLite store keeps each observation once: rows share the body and payload of the
history row that recorded them, and read back exactly what the memory store keeps, prunes
included."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderstatus import OrderState, OrderStatus
from orderstatus.models import ChangeKind, utcnow
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, SQLiteStore, Store
from orderstatus.testing.stores import observation
from orderstatus.testing.strategies import status_histories
from orderstatus.tracking import Tracker

S = OrderState
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_a_change_is_stored_once_and_an_order_shares_its_row(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        tracker = Tracker(store, registry=Registry(), keep_duplicates=True)
        first = observation(S.CREATED, 0)
        tracker.observe(first)
        again = attrs.evolve(first, observed_at=first.observed_at + dt.timedelta(minutes=1),
                             raw={"refreshed": True})
        tracker.observe(again)  # a duplicate: only its times and payload are new
        shipped = observation(S.SHIPPED, 5)
        tracker.observe(shipped)
        assert store.current("suite", "A1") == shipped
        history = store.history("suite", "A1")
        assert [e.status for e in history] == [first, again, shipped]
        assert [e.status.raw for e in history] == [first.raw, {}, shipped.raw]
        assert history[2].previous_status == attrs.evolve(again, raw={})
    found = rows(path, "SELECT seq, base, body IS NOT NULL, raw IS NOT NULL, previous_base,"
                       " previous_body IS NOT NULL FROM history ORDER BY seq")
    assert found == [
        (1, None, 1, 1, None, 0),  # the first sighting: body and payload
        (2, 1, 0, 0, None, 0),     # the duplicate: a narrow row sharing the first's body
        (3, None, 1, 1, 1, 0),     # the change: its own; what it replaced is the first's body
    ]
    assert rows(path, "SELECT head, body, raw FROM orders") == [(3, None, None)]


def test_a_duplicate_not_kept_refreshes_the_order_without_copying_its_body(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        tracker = Tracker(store, registry=Registry())
        first = observation(S.CREATED, 0)
        tracker.observe(first)
        again = attrs.evolve(first, observed_at=first.observed_at + dt.timedelta(minutes=1),
                             raw={"refreshed": True})
        tracker.observe(again)
        current = store.current("suite", "A1")
        assert current == again
        assert current is not None and current.raw == {"refreshed": True}
        assert rows(path, "SELECT head, body, raw FROM orders") == [
            (1, None, '{"refreshed":true}')]
        # One that brings the payload the shared row holds shares that too.
        same = attrs.evolve(first, observed_at=again.observed_at + dt.timedelta(minutes=1))
        tracker.observe(same)
        assert rows(path, "SELECT head, body, raw FROM orders") == [(1, None, None)]
        assert store.current("suite", "A1").raw == first.raw  # type: ignore[union-attr]
        again = same
        # Statuses that read otherwise (another native status for the same state) are kept
        # whole.
        other = attrs.evolve(again, native_status="Waiting",
                             observed_at=again.observed_at + dt.timedelta(minutes=1))
        tracker.observe(other)
        assert store.current("suite", "A1") == other
        assert rows(path, "SELECT head, body IS NOT NULL FROM orders") == [(None, 1)]
        # The change after it keeps the replaced status with its own body too.
        shipped = observation(S.SHIPPED, 5)
        assert tracker.observe(shipped) is not None
        (entry,) = [e for e in store.history("suite", "A1") if e.status == shipped]
        assert entry.previous_status == other
    assert rows(path, "SELECT previous_base, previous_body IS NOT NULL FROM history"
                      " WHERE seq = 2") == [(None, 1)]


def test_pruning_a_shared_row_keeps_what_shares_it(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        tracker = Tracker(store, registry=Registry(), keep_duplicates=True)
        first = observation(S.CREATED, 0)
        tracker.observe(first)
        cut = utcnow()
        again = attrs.evolve(first, observed_at=first.observed_at + dt.timedelta(minutes=1))
        tracker.observe(again)
        other = observation(S.CREATED, 2, order="A2")
        tracker.observe(other)
        shipped = observation(S.SHIPPED, 3, order="A2")
        tracker.observe(shipped)
        before = {key: (store.current(*key), store.history(*key), store.changes())
                  for key in (("suite", "A1"), ("suite", "A2"))}
        assert tracker.prune(cut) == 1  # the first sighting of A1, which three rows share
        assert store.current("suite", "A1") == again
        assert store.current("suite", "A1").raw == again.raw  # type: ignore[union-attr]
        assert store.history("suite", "A1") == before["suite", "A1"][1][1:]
        assert store.history("suite", "A2") == before["suite", "A2"][1]
        assert tracker.observe(attrs.evolve(again, observed_at=again.observed_at
                                            + dt.timedelta(minutes=1))) is None
        assert tracker.prune(utcnow()) == 4
        assert store.current("suite", "A1") is not None
        assert store.current("suite", "A2") == shipped
    assert rows(path, "SELECT count(*) FROM history") == [(0,)]
    assert rows(path, "SELECT count(*) FROM orders WHERE head IS NOT NULL") == [(0,)]


@pytest.mark.parametrize("batched", [False, True])
def test_a_rolled_back_write_is_never_taken_for_the_order_s_record(
    tmp_path: Path, batched: bool
) -> None:
    """The store remembers the statuses it wrote, by ``seq``; one whose transaction rolled
    back must be forgotten, since its ``seq`` is handed out again (here by another handle)."""
    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store, SQLiteStore(path) as other:
        tracker = Tracker(store, registry=Registry())
        tracker.observe(observation(S.CREATED, 0))
        shipped, produced = observation(S.SHIPPED, 5), observation(S.IN_PRODUCTION, 3)

        class Undone(Exception):
            pass

        def fail_after_writing() -> None:
            with store.transaction("suite", "A1") as txn:
                tracker._apply(txn, shipped)
                raise Undone

        with contextlib.ExitStack() as stack:
            if batched:
                stack.enter_context(store.batch())
            with pytest.raises(Undone):
                fail_after_writing()
        Tracker(other, registry=Registry()).observe(produced)  # takes the same seq
        tracker.observe(observation(S.CREATED, 0, order="B2"))  # this handle commits again
        with store.transaction("suite", "A1") as txn:
            assert txn.record is not None
            assert txn.record.status == produced
        later = tracker.observe(observation(S.SHIPPED, 6))
        assert later is not None and later.previous_status == produced
        assert [e.seq for e in store.history("suite", "A1")] == [1, 2, 4]


def feed(tracker: Tracker, statuses: list[OrderStatus]) -> None:
    for status in statuses:
        tracker.observe(status)


def snapshot(store: Store, keys: list[tuple[str, str]], *, recorded: bool = True) -> object:
    """Everything the store reads back, raw payloads included (they are not compared by ==),
    and when each entry was recorded if ``recorded``."""
    return (
        [(store.current(*key), getattr(store.current(*key), "raw", None)) for key in keys],
        [[(e if recorded else attrs.evolve(e, recorded_at=EPOCH), e.status.raw)
          for e in store.history(*key)] for key in keys],
        store.changes(),
        [c.status.raw for c in store.changes()], store.count(), [s.raw for s in store.orders()],
    )


@pytest.mark.parametrize("provider", ["gooten", "printapi"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_sqlite_store_reads_back_what_the_memory_store_keeps(
    provider: str, data: st.DataObject
) -> None:
    histories = [
        data.draw(status_histories(provider=provider, duplicates=True, reorder=True,
                                   unknowns=True, details=True, max_size=10))
        for _ in range(2)
    ]
    statuses = []
    for n, history in enumerate(histories):
        for status in history.observations:
            status = attrs.evolve(status, order_id=f"{n}-{status.order_id}")
            if status.provider_time is not None and data.draw(st.booleans()):  # a feed entry
                status = attrs.evolve(status, payment=None, native_payment=None, tracking=(),
                                      items=(), partial=True)
            statuses.append(status)
    statuses = data.draw(st.permutations(statuses))
    cut = data.draw(st.integers(0, len(statuses)))
    keep = data.draw(st.booleans())
    keys = sorted({(s.provider, s.order_id) for s in statuses})
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "s.sqlite3"
        trackers = [Tracker(store, registry=Registry(), keep_duplicates=keep)
                    for store in (MemoryStore(), SQLiteStore(path))]
        for tracker in trackers:
            feed(tracker, statuses[:cut])
        moment = utcnow()
        assert len({tracker.prune(moment) for tracker in trackers}) == 1
        for tracker in trackers:
            feed(tracker, statuses[cut:])
        memory, sqlite = (snapshot(tracker.store, keys, recorded=False) for tracker in trackers)
        assert sqlite == memory
        kept = snapshot(trackers[1].store, keys)
        trackers[1].close()
        with SQLiteStore(path) as reopened:
            assert snapshot(reopened, keys) == kept


@pytest.mark.parametrize("provider", ["gooten", "printapi"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_the_record_a_transaction_remembers_is_the_one_its_row_holds(
    provider: str, data: st.DataObject
) -> None:
    """The store takes an order's record from the statuses it wrote last (a change's, or a
    duplicate's whose row shares that change's body and payload) instead of decoding its
    row, even while another handle (another process) writes the same order: after every
    observation that record is the one a fresh handle decodes, and any payload it comes
    with is the order's."""
    history = data.draw(status_histories(provider=provider, duplicates=True, reorder=True,
                                         unknowns=True, details=True, max_size=12))
    keep = data.draw(st.booleans())
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "s.sqlite3"
        with SQLiteStore(path) as store, SQLiteStore(path) as other:
            trackers = [Tracker(s, registry=Registry(), keep_duplicates=keep)
                        for s in (store, other)]
            for status in history.observations:
                later = dt.timedelta(seconds=data.draw(st.integers(0, 3)))  # a refetch, say
                status = attrs.evolve(status, observed_at=status.observed_at + later)
                trackers[data.draw(st.sampled_from([0, 0, 1]))].observe(status)
                key = status.provider, status.order_id
                with store.transaction(*key) as txn:
                    remembered = txn.record
                with SQLiteStore(path) as fresh, fresh.transaction(*key) as txn:
                    decoded = txn.record
                assert remembered == decoded
                if remembered is not None and remembered.status.raw:
                    current = store.current(*key)
                    assert current is not None and remembered.status.raw == current.raw


def test_an_entry_given_its_seq_keeps_every_other_field() -> None:
    """``with_seq`` is ``attrs.evolve(entry, seq=...)`` spelt out: it must name every field."""
    from orderstatus.stores._sqlite_format import with_seq
    from orderstatus.tracking.history import HistoryEntry, Outcome

    status, before = observation(S.SHIPPED, 5), observation(S.CREATED, 0)
    entry = HistoryEntry(Outcome.ANOMALY, status, S.CREATED, (S.IN_PRODUCTION,), 0,
                         utcnow(), frozenset({ChangeKind.STATE}), before)
    assert {f.name for f in attrs.fields(HistoryEntry)} == {
        "outcome", "status", "previous", "skipped", "seq", "recorded_at", "kinds",
        "previous_status"}
    stored = with_seq(entry, 7)
    assert stored == attrs.evolve(entry, seq=7)
    assert all(getattr(stored, f.name) is getattr(entry, f.name)
               for f in attrs.fields(HistoryEntry) if f.name != "seq")


def test_a_missing_shared_row_is_a_typed_error_and_the_transaction_is_let_go(
    tmp_path: Path,
) -> None:
    """A damaged file (the history row an order shares is gone) fails the order's transaction
    with a clear error when it is read, and leaves the store usable."""
    from orderstatus.stores.codec import RecordFormatError

    path = tmp_path / "s.sqlite3"
    with SQLiteStore(path) as store:
        Tracker(store, registry=Registry()).observe(observation(S.CREATED, 0))
    db = sqlite3.connect(path)
    db.execute("DELETE FROM history")
    db.commit()
    db.close()
    with SQLiteStore(path) as store:  # a new handle: nothing remembered
        tracker = Tracker(store, registry=Registry())
        with pytest.raises(RecordFormatError, match="its body is missing"):
            tracker.observe(observation(S.SHIPPED, 5))
        assert not store._db.in_transaction
        assert tracker.observe(observation(S.CREATED, 0, order="B2")) is not None
