"""The store conformance suite: what every :class:`~orderstatus.stores.Store` must do.

One line in a store's tests::

    from orderstatus.testing.stores import store_suite

    TestMyStore = store_suite(lambda directory: MyStore(directory / "orders.db"))

The factory is called with a fresh, empty temporary directory for each test and returns a new,
empty store (a server database's store may ignore the directory and use a fresh schema).
Pass ``reopen=`` a function that opens a second handle on the same data (another connection,
as another process would have) to run the concurrency and durability checks across handles
too. The returned :class:`unittest.TestCase` (pytest collects it) checks, against the protocol
in :mod:`orderstatus.stores.base`: round trips of every value, transactions (atomic, isolated
per order, first observations included), batches, the change log (ids increasing in commit
order, never going back for a reader, paging), due orders and their leases, feed cursors
(compare-and-set) and feed readers (one at a time), consumers, retention, listing and
counting orders, and that the tracker emits every change exactly once on the store under
concurrent observers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
import threading
import unittest
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, cast

import attrs

from orderstatus.lifecycle import ActionReason, OrderState, PaymentState
from orderstatus.models import ChangeKind, ItemStatus, OrderStatus, StatusChange, Tracking
from orderstatus.plugins import Registry
from orderstatus.stores.base import Store
from orderstatus.tracking import CheckPolicy, HistoryEntry, OrderRecord, Outcome, Tracker

__all__ = ["StoreTestCase", "store_suite"]

Factory = Callable[[Path], Store]
Reopen = Callable[[Store], Store]

S = OrderState
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
WALK = (S.CREATED, S.IN_PRODUCTION, S.SHIPPED, S.DELIVERED)


def at(minutes: float) -> dt.datetime:
    """``minutes`` after a fixed moment."""
    return T0 + dt.timedelta(minutes=minutes)


def observation(state: OrderState, minute: float, *, order: str = "A1",
                provider: str = "suite", **fields: Any) -> OrderStatus:
    """``order`` seen in ``state``, true (and observed) ``minute`` minutes after T0."""
    return OrderStatus(provider, order, state, state.value, provider_time=at(minute),
                       observed_at=at(minute), raw={"state": state.value, "minute": minute},
                       **fields)


FULL = OrderStatus(
    "suite", "Ø-7/é \"quoted\"", S.ACTION_REQUIRED, "AddressIssue", reason=ActionReason.ADDRESS,
    payment=PaymentState.PAID, native_payment="Successful",
    items=(
        ItemStatus("1", S.ACTION_REQUIRED, "AddressIssue", ActionReason.ADDRESS),
        ItemStatus("2", S.SHIPPED, "Shipped",
                   tracking=(Tracking("PostNL", "3S1", "https://t.example/3S1"),)),
    ),
    tracking=(Tracking("PostNL", "3S1", "https://t.example/3S1"),),
    provider_time=dt.datetime(2026, 2, 3, 4, 5, 6, 789000),
    observed_at=dt.datetime(2026, 2, 3, 4, 5, 7, 123456, tzinfo=dt.timezone.utc),
    raw={"Items": [{"Status": "AddressIssue", "Meta": {"n": 1.5, "ok": True, "no": None}}],
         "text": "\u00e9\u4e2d\U0001f4e6"},
)


class StoreTestCase(unittest.TestCase):
    """Base of the classes :func:`store_suite` returns; not collected itself."""

    __test__ = False
    factory: ClassVar[Factory]
    reopen: ClassVar[Reopen | None] = None
    exclusive_feeds: ClassVar[bool] = True

    def store(self) -> Store:
        """A new, empty store, closed (and its directory removed) after the test."""
        directory = Path(tempfile.mkdtemp(prefix="orderstatus-store-"))
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        store = type(self).factory(directory)
        self.addCleanup(store.close)
        return store

    def handles(self, store: Store, count: int) -> list[Store]:
        """``count`` handles on ``store``'s data: new ones if the suite can reopen it."""
        reopen = type(self).reopen
        if reopen is None:
            return [store] * count
        others = [reopen(store) for _ in range(count - 1)]
        for other in others:
            self.addCleanup(other.close)
        return [store, *others]

    def tracker(self, store: Store, **options: Any) -> Tracker:
        return Tracker(store, registry=Registry(), **options)

    # -- values ------------------------------------------------------------------------------

    def test_a_status_its_entry_and_its_change_survive_whole(self) -> None:
        """Every field of a status (raw payload, items, times) comes back equal."""
        store = self.store()
        tracker = self.tracker(store)
        change = tracker.observe(FULL)
        self.assertIsNotNone(change)
        stored = store.current(FULL.provider, FULL.order_id)
        self.assertEqual(stored, FULL)
        assert stored is not None
        self.assertEqual(stored.raw, FULL.raw)
        self.assertEqual([s.raw for s in store.orders()], [FULL.raw])
        [entry] = store.history(FULL.provider, FULL.order_id)
        self.assertEqual((entry.outcome, entry.status, entry.status.raw),
                         (Outcome.CHANGE, FULL, FULL.raw))
        self.assertEqual(store.changes(), [change])
        self.assertEqual(store.changes()[0].status.raw, FULL.raw)
        partial = attrs.evolve(observation(S.SHIPPED, 0, order="P"), partial=True)
        tracker.observe(partial)
        self.assertEqual(store.current("suite", "P"), partial)

    def test_a_record_keeps_its_change_and_due_times(self) -> None:
        store = self.store()
        record = OrderRecord(observation(S.CREATED, 0), at(-5), at(30))
        with store.transaction("suite", "A1") as txn:
            self.assertIsNone(txn.record)
            txn.write(record)
            self.assertEqual(txn.record, record)
        with store.transaction("suite", "A1") as txn:
            self.assertEqual(txn.record, record)
            txn.write(attrs.evolve(record, due_at=None))
        with store.transaction("suite", "A1") as txn:
            assert txn.record is not None
            self.assertIsNone(txn.record.due_at)

    # -- transactions and batches ------------------------------------------------------------

    def test_a_failed_transaction_leaves_no_trace(self) -> None:
        store = self.store()
        tracker = self.tracker(store)
        tracker.observe(observation(S.CREATED, 0))
        with self.assertRaises(RuntimeError), store.transaction("suite", "A1") as txn:
            txn.append(HistoryEntry(Outcome.CHANGE, observation(S.SHIPPED, 5)))
            txn.write(OrderRecord(observation(S.SHIPPED, 5), at(5), None))
            raise RuntimeError("crash inside the transaction")
        self.assertEqual(tracker.state("suite", "A1"), S.CREATED)
        self.assertEqual(len(store.history("suite", "A1")), 1)
        self.assertEqual(len(store.changes()), 1)

    def test_a_batch_commits_together_and_undoes_only_a_failed_transaction(self) -> None:
        store = self.store()
        tracker = self.tracker(store)
        with store.batch():
            tracker.observe(observation(S.CREATED, 0, order="A"))
            with self.assertRaises(RuntimeError), store.transaction("suite", "B") as txn:
                txn.write(OrderRecord(observation(S.CREATED, 0, order="B"), at(0), None))
                raise RuntimeError("one order fails")
            with store.batch():  # nested: joins the outer one
                tracker.observe(observation(S.SHIPPED, 1, order="C"))
            tracker.observe(observation(S.SHIPPED, 2, order="A"))  # sees A's first record
        self.assertEqual(tracker.state("suite", "A"), S.SHIPPED)
        self.assertIsNone(tracker.state("suite", "B"))
        self.assertEqual(tracker.state("suite", "C"), S.SHIPPED)
        self.assertEqual([(c.order_id, c.current) for c in store.changes()],
                         [("A", S.CREATED), ("C", S.SHIPPED), ("A", S.SHIPPED)])
        with self.assertRaises(RuntimeError), store.batch():
            tracker.observe(observation(S.DELIVERED, 3, order="A"))
            tracker.observe(observation(S.CREATED, 3, order="D"))
            raise RuntimeError("the batch fails")
        self.assertEqual(tracker.state("suite", "A"), S.SHIPPED)
        self.assertIsNone(tracker.current("suite", "D"))
        self.assertEqual(len(store.changes()), 3)

    def test_record_many_is_one_batch(self) -> None:
        store = self.store()
        tracker = self.tracker(store)
        entries = tracker.record_many(
            [observation(S.CREATED, 0, order=f"O{n}") for n in range(5)]
            + [observation(S.CREATED, 0, order="O1")]
        )
        self.assertEqual([e.outcome for e in entries], [Outcome.CHANGE] * 5 + [Outcome.DUPLICATE])
        self.assertEqual([c.order_id for c in store.changes()], [f"O{n}" for n in range(5)])

    def test_concurrent_observers_emit_each_change_once(self) -> None:
        """Eight threads on four handles observe the same walks of 12 orders, each in its own
        order (first observations included)."""
        store = self.store()
        handles = self.handles(store, 4)
        stream = [observation(state, n, order=f"O{o}")
                  for o in range(12) for n, state in enumerate(WALK)]
        emitted: list[StatusChange] = []
        lock = threading.Lock()

        def observe(worker: int) -> None:
            tracker = self.tracker(handles[worker % 4])
            for observed in stream[worker:] + stream[:worker]:
                change = tracker.observe(observed)
                if change is not None:
                    with lock:
                        emitted.append(change)

        _run_threads(observe, 8)
        keys = [(c.order_id, c.current) for c in emitted]
        self.assertEqual(len(keys), len(set(keys)), "a change was emitted twice")
        stored = store.changes(limit=1000)
        self.assertEqual(sorted(c.id for c in stored), sorted(c.id for c in emitted))
        for order in range(12):
            mine = [c for c in stored if c.order_id == f"O{order}"]
            self.assertEqual([c.current for c in mine][-1], S.DELIVERED)
            for before, after in itertools.pairwise(mine):
                self.assertEqual(after.previous, before.current)

    # -- the change log ----------------------------------------------------------------------

    def test_the_change_log_holds_changes_in_commit_order(self) -> None:
        store = self.store()
        tracker = self.tracker(store, keep_duplicates=True)
        self.assertEqual((store.changes(), store.last_change_id()), ([], 0))
        for observed in (
            observation(S.CREATED, 0), observation(S.CREATED, 0),           # duplicate
            observation(S.CREATED, 1, order="B"),
            attrs.evolve(observation(S.UNKNOWN, 2), native_status="?"),     # unknown
            observation(S.SHIPPED, 3), observation(S.IN_PRODUCTION, 2),    # stale
            observation(S.CREATED, 4, payment=PaymentState.PAID, order="B"),
        ):
            tracker.record(observed)
        changes = store.changes()
        self.assertEqual([(c.order_id, c.current, c.kinds) for c in changes], [
            ("A1", S.CREATED, {ChangeKind.STATE}),
            ("B", S.CREATED, {ChangeKind.STATE}),
            ("A1", S.SHIPPED, {ChangeKind.STATE}),
            ("B", S.CREATED, {ChangeKind.PAYMENT}),
        ])
        ids = [c.id for c in changes]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(store.last_change_id(), ids[-1])
        self.assertEqual(store.changes(after=ids[1], limit=1), [changes[2]])
        self.assertEqual(store.changes(after=ids[-1]), [])
        every = [e for key in (("suite", "A1"), ("suite", "B")) for e in store.history(*key)]
        self.assertEqual(len(every), 7)
        self.assertEqual(sorted(e.seq for e in every if e.change), ids)
        self.assertEqual(changes[2].previous_status, attrs.evolve(observation(S.CREATED, 0),
                                                                  raw={}))

    def test_a_reader_never_sees_an_id_below_one_it_has_seen(self) -> None:
        """Writers on several handles commit while a reader follows the log: every id it
        reads is above the last, and in the end it has read every change."""
        store = self.store()
        handles = self.handles(store, 3)
        done = threading.Event()
        seen: list[int] = []
        problems: list[str] = []

        def write(worker: int) -> None:
            tracker = self.tracker(handles[worker % 3])
            for n, state in enumerate(WALK):
                for order in range(10):
                    tracker.observe(observation(state, n, order=f"W{worker}-{order}"))

        def read() -> None:
            while True:
                finished = done.is_set()
                batch = store.changes(after=seen[-1] if seen else 0, limit=7)
                for change in batch:
                    if seen and change.id <= seen[-1]:
                        problems.append(f"id {change.id} after {seen[-1]}")
                    seen.append(change.id)
                if finished and not batch:
                    return

        reader = threading.Thread(target=read)
        reader.start()
        _run_threads(write, 3)
        done.set()
        reader.join()
        self.assertEqual(problems, [])
        self.assertEqual(seen, [c.id for c in store.changes(limit=1000)])
        self.assertEqual(len(seen), 3 * 10 * len(WALK))

    def test_consumers_keep_a_position_that_only_moves_forward(self) -> None:
        store = self.store()
        self.assertEqual(store.consumers(), {})
        self.assertEqual(store.register_consumer("billing"), 0)
        self.assertEqual(store.ack("billing", 5), 5)
        self.assertEqual(store.ack("billing", 3), 5)
        self.assertEqual(store.register_consumer("billing"), 5)
        self.assertEqual(store.ack("erp", 2), 2)  # created by its first ack
        self.assertEqual(store.consumers(), {"billing": 5, "erp": 2})
        self.assertTrue(store.drop_consumer("erp"))
        self.assertFalse(store.drop_consumer("erp"))
        self.assertEqual(store.consumers(), {"billing": 5})
        other = self.handles(store, 2)[1]
        self.assertEqual(other.consumers(), {"billing": 5})

    # -- due orders --------------------------------------------------------------------------

    def _scheduled(self, store: Store, provider: str, order: str, due: float | None) -> None:
        with store.transaction(provider, order) as txn:
            txn.write(OrderRecord(observation(S.CREATED, 0, order=order, provider=provider),
                                  at(0), None if due is None else at(due)))

    def test_due_orders_are_claimed_earliest_first_and_leased(self) -> None:
        store = self.store()
        for order, due in (("late", 30), ("early", 10), ("never", None), ("later", 50),
                           ("naive", 20)):
            self._scheduled(store, "suite", order, due)
        with store.transaction("suite", "naive") as txn:  # naive times are UTC
            assert txn.record is not None
            txn.write(attrs.evolve(txn.record, due_at=at(20).replace(tzinfo=None)))
        self._scheduled(store, "other", "elsewhere", 0)
        lease = dt.timedelta(minutes=15)
        self.assertEqual(store.claim_due("suite", at(5), limit=10, lease=lease), [])
        self.assertEqual(store.claim_due("suite", at(40), limit=2, lease=lease),
                         ["early", "naive"])
        self.assertEqual(store.claim_due("suite", at(40), limit=10, lease=lease), ["late"])
        self.assertEqual(store.claim_due("suite", at(54), limit=10, lease=lease), ["later"])
        # Leases run out 15 minutes after the claim; writing a record ends one early.
        self._scheduled(store, "suite", "late", 80)
        self.assertEqual(store.claim_due("suite", at(55), limit=10, lease=lease),
                         ["early", "naive"])
        self.assertEqual(store.claim_due("suite", at(68), limit=10, lease=lease), [])
        self.assertEqual(sorted(store.claim_due("suite", at(90), limit=10, lease=lease)),
                         ["early", "late", "later", "naive"])
        self.assertEqual(store.claim_due("other", at(90), limit=10, lease=lease), ["elsewhere"])

    def test_concurrent_claimers_never_get_the_same_order(self) -> None:
        store = self.store()
        with store.batch():
            for n in range(120):
                self._scheduled(store, "suite", f"O{n:03}", n % 7)
        handles = self.handles(store, 3)
        claimed: list[str] = []
        lock = threading.Lock()

        def claim(worker: int) -> None:
            while True:
                got = handles[worker % 3].claim_due("suite", at(10), limit=7,
                                                    lease=dt.timedelta(hours=1))
                if not got:
                    return
                with lock:
                    claimed.extend(got)

        _run_threads(claim, 6)
        self.assertEqual(sorted(claimed), [f"O{n:03}" for n in range(120)])

    def test_the_tracker_schedules_each_check_from_its_policy(self) -> None:
        store = self.store()
        tracker = self.tracker(store, check_policy=CheckPolicy())
        tracker.observe(observation(S.CREATED, 0))
        tracker.observe(observation(S.DELIVERED, 0, order="done"))
        lease = dt.timedelta(minutes=1)
        self.assertEqual(store.claim_due("suite", at(4), limit=10, lease=lease), [])
        self.assertEqual(store.claim_due("suite", at(5), limit=10, lease=lease), ["A1"])
        tracker.observe(observation(S.CREATED, 120))  # unchanged for 2 hours: due 30 min on
        self.assertEqual(store.claim_due("suite", at(149), limit=10, lease=lease), [])
        self.assertEqual(store.claim_due("suite", at(150), limit=10, lease=lease), ["A1"])

    def test_an_unknown_status_only_moves_the_next_check(self) -> None:
        store = self.store()
        tracker = self.tracker(store)
        first = observation(S.CREATED, 0)
        tracker.observe(first)
        tracker.observe(attrs.evolve(observation(S.UNKNOWN, 60), native_status="?"))
        lease = dt.timedelta(minutes=1)
        # Unchanged for an hour when the unknown answer came: due 15 minutes after it.
        self.assertEqual(store.claim_due("suite", at(74), limit=10, lease=lease), [])
        self.assertEqual(store.claim_due("suite", at(75), limit=10, lease=lease), ["A1"])
        kept = store.current("suite", "A1")
        self.assertEqual(kept, first)
        assert kept is not None
        self.assertEqual(kept.raw, first.raw)

    # -- feed cursors ------------------------------------------------------------------------

    def test_feed_cursors_are_compared_and_set(self) -> None:
        store = self.store()
        self.assertIsNone(store.load_cursor("suite"))
        self.assertTrue(store.save_cursor("suite", "c1", expected=None))
        self.assertFalse(store.save_cursor("suite", "c0", expected=None))
        self.assertTrue(store.save_cursor("suite", "c2", expected="c1"))
        self.assertFalse(store.save_cursor("suite", "c1", expected="c1"))
        self.assertTrue(store.save_cursor("other", "7", expected=None))
        self.assertEqual(store.load_cursor("suite"), "c2")
        self.assertTrue(store.save_cursor("suite", None, expected="c2"))
        self.assertIsNone(store.load_cursor("suite"))
        self.assertEqual(store.load_cursor("other"), "7")

    def test_one_reader_holds_a_feed_at_a_time(self) -> None:
        store = self.store()
        other = self.handles(store, 2)[1]
        with store.hold_feed("suite") as first:
            self.assertTrue(first)
            with store.hold_feed("suite") as second:
                self.assertFalse(second, "a second reader got the feed its first reader holds")
            with store.hold_feed("suite", timeout=0.05) as patient:
                self.assertFalse(patient, "a reader waited for a held feed and got it")
            if type(self).exclusive_feeds:
                with other.hold_feed("suite") as elsewhere:
                    self.assertFalse(elsewhere, "another handle got a feed that is held")
            with store.hold_feed("other") as another_feed:
                self.assertTrue(another_feed)
        with self.assertRaises(RuntimeError), other.hold_feed("suite") as taken:
            self.assertTrue(taken)
            raise RuntimeError("the reader fails")
        with store.hold_feed("suite") as again:
            self.assertTrue(again, "a feed stayed held after its reader let go")
        holding, released = threading.Event(), threading.Event()
        got: list[bool] = []

        def let_go_later() -> None:
            with other.hold_feed("suite") as held:
                got.append(held)
                holding.set()
                released.wait(30)

        holder = threading.Thread(target=let_go_later)
        holder.start()
        self.assertTrue(holding.wait(30))
        self.assertEqual(got, [True])
        threading.Timer(0.1, released.set).start()
        with store.hold_feed("suite", timeout=30) as waited:
            self.assertTrue(waited, "a reader waiting for a feed did not get it once let go")
        holder.join()

    # -- every order -------------------------------------------------------------------------

    def test_orders_are_listed_in_key_order_page_by_page_and_counted(self) -> None:
        store = self.store()
        tracker = self.tracker(store)
        with store.batch():
            for n in range(25):
                state = S.DELIVERED if n % 5 == 0 else S.SHIPPED
                tracker.observe(observation(state, 0, order=f"O{n:02}",
                                            provider="b" if n % 2 else "a"))
        keys = sorted(("b" if n % 2 else "a", f"O{n:02}") for n in range(25))
        for non_terminal in (False, True):
            wanted = [k for k in keys if not non_terminal or int(k[1][1:]) % 5]
            found: list[tuple[str, str]] = []
            after = None
            while True:
                page = store.orders(after=after, limit=4, non_terminal=non_terminal)
                found.extend((s.provider, s.order_id) for s in page)
                if len(page) < 4:
                    break
                after = found[-1]
            self.assertEqual(found, wanted)
            self.assertEqual(store.count(non_terminal=non_terminal), len(wanted))

    # -- retention ---------------------------------------------------------------------------

    def test_prune_keeps_records_and_unconsumed_changes(self) -> None:
        store = self.store()
        tracker = self.tracker(store, keep_duplicates=True)
        first = tracker.observe(observation(S.CREATED, 0))
        tracker.observe(observation(S.CREATED, 1))  # a duplicate
        second = tracker.observe(observation(S.SHIPPED, 2))
        assert first is not None and second is not None
        store.register_consumer("slow")
        store.ack("slow", first.id)
        cutoff = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
        self.assertEqual(store.prune(cutoff), 2)  # the first change and the duplicate
        self.assertEqual(store.changes(), [second])
        self.assertEqual(tracker.state("suite", "A1"), S.SHIPPED)
        self.assertEqual(store.prune(cutoff), 0)
        store.drop_consumer("slow")
        self.assertEqual(store.prune(cutoff - dt.timedelta(days=1)), 0)  # nothing that old
        self.assertEqual(store.prune(cutoff), 1)  # no consumer holds it back any more
        self.assertEqual((store.changes(), store.history("suite", "A1")), ([], []))
        self.assertEqual(tracker.state("suite", "A1"), S.SHIPPED)
        third = tracker.observe(observation(S.DELIVERED, 3))
        assert third is not None
        self.assertGreater(third.id, second.id, "a change id was reused after pruning")

    # -- durability --------------------------------------------------------------------------

    def test_another_handle_sees_everything_committed(self) -> None:
        """Only run with ``reopen=``."""
        store = self.store()
        tracker = self.tracker(store)
        change = tracker.observe(FULL)
        store.save_cursor("suite", "c1", expected=None)
        store.ack("billing", 1)
        other = self.handles(store, 2)[1]
        self.assertEqual(other.current(FULL.provider, FULL.order_id), FULL)
        self.assertEqual(other.changes(), [change])
        self.assertEqual(other.load_cursor("suite"), "c1")
        self.assertEqual(other.consumers(), {"billing": 1})


def _run_threads(target: Callable[[int], None], count: int) -> None:
    failures: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            target(worker)
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def store_suite(
    factory: Factory, *, reopen: Reopen | None = None, name: str = "Store",
    exclusive_feeds: bool = True,
) -> type[unittest.TestCase]:
    """The store conformance tests, as a test case class to assign in a test module.

    Args:
        factory: called with a fresh empty directory for each test; returns a new, empty
            store.
        reopen: given a store from ``factory``, opens another handle on the same data (as
            another process would); without it, cross-handle checks use the one handle.
        name: a name for the test class.
        exclusive_feeds: whether :meth:`~orderstatus.stores.FeedState.hold_feed` keeps
            other handles off (``False``: only this handle's other callers are checked).
    """
    attributes: dict[str, Any] = {
        "__test__": True,
        "__module__": StoreTestCase.__module__,
        "factory": staticmethod(factory),
        "reopen": None if reopen is None else staticmethod(reopen),
        "exclusive_feeds": exclusive_feeds,
    }
    if reopen is None:  # nothing to reopen: leave out what only a second handle can show
        attributes["test_another_handle_sees_everything_committed"] = None
    return cast("type[unittest.TestCase]", type(f"StoreSuite_{name}", (StoreTestCase,), attributes))
