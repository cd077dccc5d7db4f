"""PostgresStore beyond the suite: the change log in commit order, worker processes sharing
one database, the schema, credentials, and the missing extra."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import conninfo

from orderstatus import ConfigurationError, OrderState, PostgresStore, open_store
from orderstatus.plugins import Registry
from orderstatus.stores import postgres as module
from orderstatus.testing.stores import observation
from orderstatus.tracking import HistoryEntry, Outcome, Tracker
from tests import postgres
from tests.chains import chained, texts_of
from tests.workers import go, read, start

S = OrderState


@pytest.fixture
def dsn(postgres_database: str) -> str:
    return postgres_database


@pytest.fixture
def store(dsn: str) -> Iterator[PostgresStore]:
    with postgres.store(dsn) as opened:
        yield opened


def tracker(store: PostgresStore) -> Tracker:
    return Tracker(store, registry=Registry())


# -- the change log in commit order -------------------------------------------------------------


def test_a_change_committed_after_a_later_id_is_never_skipped(store: PostgresStore,
                                                              dsn: str) -> None:
    """T1 takes its log position first and commits last; T2 takes a later one and commits
    first. A reader between the two commits must not see T2 yet, or reading on from T2's id
    would skip T1 for ever."""
    other = PostgresStore(dsn)  # another pool: T2's connections and the reader's
    positioned, release = threading.Event(), threading.Event()
    taken: list[int] = []

    def first() -> None:
        with store.transaction("suite", "T1") as txn:
            taken.append(txn.append(HistoryEntry(Outcome.CHANGE, observation(S.CREATED, 0,
                                                                             order="T1"))).seq)
            positioned.set()
            assert release.wait(30)

    writer = threading.Thread(target=first)
    writer.start()
    try:
        assert positioned.wait(30)
        t2 = tracker(other).observe(observation(S.CREATED, 0, order="T2"))
        assert t2 is not None
        assert t2.id > taken[0]  # T2's id is the later one, and T2 has committed
        assert other.changes() == []  # T1 is in flight below it: nothing is shown yet
        assert other.last_change_id() == 0
        assert store.changes() == []
    finally:
        release.set()
        writer.join()
    assert [c.id for c in other.changes()] == [taken[0], t2.id]
    assert other.changes(after=taken[0]) == [t2]
    assert other.last_change_id() == t2.id
    other.close()


def test_a_rolled_back_position_holds_nothing_back(store: PostgresStore, dsn: str) -> None:
    def fail_in_a_transaction() -> None:
        with store.transaction("suite", "gone") as txn:
            txn.append(HistoryEntry(Outcome.CHANGE, observation(S.CREATED, 0, order="gone")))
            raise RuntimeError("the writer fails")

    def fail_in_a_batch() -> None:
        with store.batch():
            tracker(store).observe(observation(S.CREATED, 0, order="gone too"))
            raise RuntimeError("the batch fails")

    for fail in (fail_in_a_transaction, fail_in_a_batch):
        with pytest.raises(RuntimeError):
            fail()
    with psycopg.connect(dsn) as conn:  # forgotten at once, not left to age
        assert conn.execute("SELECT count(*) FROM orderstatus_inflight").fetchall() == [(0,)]
    change = tracker(store).observe(observation(S.CREATED, 0))
    assert store.changes() == [change]


def test_a_killed_writer_holds_nothing_back(store: PostgresStore, dsn: str) -> None:
    """A writer process killed with a log position in flight: once its server process has
    rolled it back, later changes are read as usual."""
    [holder] = start("hold", dsn, "killed")
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert read(holder) == "held"
    with psycopg.connect(dsn) as conn:
        [(pid,)] = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname ="
                                " current_database() AND state = 'idle in transaction'").fetchall()
    holder.kill()
    holder.wait(30)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(3000):  # until the server noticed: its backend is gone
            if not conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                (pid,)).fetchall():
                break
            time.sleep(0.01)
    change = tracker(store).observe(observation(S.CREATED, 0))
    assert store.changes() == [change]
    assert store.current("suite", "killed") is None


# -- worker processes ---------------------------------------------------------------------------


def test_processes_observing_the_same_orders_emit_each_change_once(
        store: PostgresStore, dsn: str) -> None:
    """Four processes observe the same walks of 10 orders, each in its own order, from the
    first observation on: each change is emitted once, by one of them, and the log holds
    each order's walk in order."""
    results = go(start("observe", dsn, "10", count=4, per_worker=True))
    emitted = [tuple(change) for result in results for change in result]  # type: ignore[attr-defined]
    keys = [(order, state) for _, order, state in emitted]
    assert len(keys) == len(set(keys)), "a change was emitted twice"
    logged = store.changes(limit=1000)
    assert sorted(c.id for c in logged) == sorted(i for i, _, _ in emitted)
    for order in range(10):
        mine = [c for c in logged if c.order_id == f"O{order}"]
        assert mine[-1].current is S.DELIVERED
        assert all(later.previous == earlier.current
                   for earlier, later in itertools.pairwise(mine))
        assert mine[0].previous is None  # seen first by exactly one worker


def test_a_consumer_in_another_process_reads_every_change_once_in_order(
        store: PostgresStore, dsn: str) -> None:
    """Two writer processes commit while a consumer process follows the log; then another
    process, as the same consumer, finds nothing left to read."""
    writers = start("observe", dsn, "10", count=2, per_worker=True)
    [reader] = start("consume", dsn, "billing", "10")
    results = go([*writers, reader])
    read_ids: list[int] = results[-1]  # type: ignore[assignment]
    assert read_ids == sorted(set(read_ids)), "the consumer read an id twice or went back"
    assert read_ids == [c.id for c in store.changes(limit=1000)]
    assert store.consumers() == {"billing": read_ids[-1]}
    assert tracker(store).consumer("billing").poll() == []


def test_workers_starting_at_once_create_the_schema_once() -> None:
    empty = postgres.database(empty=True)
    assert go(start("schema", empty, count=4)) == [0, 0, 0, 0]
    with psycopg.connect(empty) as conn:
        assert conn.execute("SELECT version FROM orderstatus_schema").fetchall() == [
            (module.SCHEMA_VERSION,)]
        conn.execute("UPDATE orderstatus_schema SET version = 99")
    with pytest.raises(ConfigurationError, match=r"schema version 99.*upgrade orderstatus"):
        PostgresStore(empty)
    postgres.server().drop(empty)


# -- credentials and configuration --------------------------------------------------------------


PASSWORD = "Wr0ng+p@ss/%2F=word"


def everything_shown(error: BaseException) -> list[str]:
    """What an error shows (message, repr, attributes, traceback) and what an error tracker
    would capture: the local variables of every frame it passed through (but this test's
    own), for it and every exception chained to it."""
    texts = texts_of(error)
    for current in chained(error):
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != __file__:
                texts += [repr(value) for value in tb.tb_frame.f_locals.values()]
            tb = tb.tb_next
    return texts


def test_a_password_is_never_shown(dsn: str) -> None:
    user = "orderstatus_masked"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {user}")
        conn.execute(f"CREATE ROLE {user} SUPERUSER LOGIN PASSWORD '{PASSWORD}'")
    params = conninfo.conninfo_to_dict(dsn)
    from urllib.parse import quote

    url = (f"postgresql://{user}:{quote(PASSWORD, safe='')}@{params['host']}:{params['port']}"
           f"/{params['dbname']}")
    forms = {PASSWORD, quote(PASSWORD, safe=""), quote(PASSWORD)}
    opened = open_store(url)
    assert isinstance(opened, PostgresStore)
    shown = f"postgresql://{user}@{params['host']}:{params['port']}/{params['dbname']}"
    assert (opened.location, repr(opened)) == (shown, f"<PostgresStore {shown}>")
    assert not any(form in repr(vars(opened)) for form in forms)
    opened.close()
    wrong = url.replace(quote(PASSWORD, safe=""), quote(PASSWORD[::-1], safe=""))
    for attempt in (lambda: open_store(wrong), lambda: PostgresStore(PASSWORD.join(
            ["host=127.0.0.1 password='", "' port=1 connect_timeout=1"]))):
        with pytest.raises(ConfigurationError) as failed:
            attempt()
        assert str(failed.value).startswith("cannot open the store postgresql://")
        texts = everything_shown(failed.value)
        leaked = [t for t in texts if any(f in t for f in forms | {PASSWORD[::-1]})]
        assert leaked == []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP ROLE {user}")


@pytest.mark.parametrize(("dsn", "shown"), [
    ("postgresql://ann:secret@db.example:6432/orders?sslmode=require",
     "postgresql://ann@db.example:6432/orders"),
    ("postgres://db.example/orders?password=secret", "postgresql://db.example/orders"),
    ("host=::1 user=ann password=secret dbname=o", "postgresql://ann@[::1]/o"),
    ("postgresql:///orders", "postgresql:///orders"),
])
def test_a_dsn_is_shown_without_its_password(dsn: str, shown: str) -> None:
    assert module.describe_dsn(dsn) == shown


MALFORMED = "host=x password=secret-value oops"


def test_a_malformed_dsn_is_refused_without_quoting_it() -> None:
    with pytest.raises(ConfigurationError, match="not a valid connection string") as failed:
        PostgresStore(MALFORMED)
    assert "secret-value" not in "".join(everything_shown(failed.value))


def test_keys_postgresql_cannot_store_are_refused(store: PostgresStore) -> None:
    with pytest.raises(ValueError, match="cannot store a NUL"), \
            store.transaction("suite", "bad\0id"):
        pass


def test_without_the_extra_the_error_names_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['psycopg'] = sys.modules['psycopg_pool'] = None\n"
        "import orderstatus\n"
        "for open_ in (lambda: orderstatus.PostgresStore('postgresql://h/db'),\n"
        "              lambda: orderstatus.open_store('postgresql://h/db')):\n"
        "    try:\n"
        "        open_()\n"
        "    except orderstatus.ConfigurationError as err:\n"
        "        print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout == ("PostgresStore needs psycopg: pip install 'orderstatus[postgres]'\n"
                           * 2)
