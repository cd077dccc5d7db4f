"""``changes``: the change log from an id, or as a named consumer, once or following."""

from __future__ import annotations

import datetime as dt
import json
import signal
from pathlib import Path

from orderstatus import OrderState, OrderStatus, PaymentState, SQLiteStore, Tracker
from orderstatus.plugins import Registry

from .conftest import clean_env, run, start

S = OrderState
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def record(store: Path, order: str, state: OrderState, minute: int, **fields: object) -> int:
    """Observe ``order`` in ``state`` into the command's store; return the change id."""
    at = T0 + dt.timedelta(minutes=minute)
    with Tracker(SQLiteStore(store), registry=Registry()) as tracker:
        change = tracker.observe(OrderStatus("shop", order, state, state.value,
                                             provider_time=at, observed_at=at, **fields))
    assert change is not None
    return change.id


def env_for(tmp_path: Path) -> tuple[dict[str, str], Path]:
    store = tmp_path / "store.sqlite3"
    return clean_env(ORDERSTATUS_STORE=str(store), HOME=str(tmp_path)), store


def test_changes_prints_the_log_from_an_id(tmp_path: Path) -> None:
    env, store = env_for(tmp_path)
    assert run("changes", env=env).stdout == ""
    first = record(store, "A", S.CREATED, 0)
    second = record(store, "A", S.SHIPPED, 5)
    third = record(store, "A", S.SHIPPED, 6, payment=PaymentState.PAID)
    done = run("changes", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{first} shop order 'A': first seen created (created)",
        f"{second} shop order 'A': created -> shipped (shipped); skipped in_production",
        f"{third} shop order 'A': payment none -> paid",
    ]
    later = run("changes", "--after", str(second), "--json", env=env)
    assert later.returncode == 0, later.stderr
    [line] = later.stdout.splitlines()
    change = json.loads(line)
    assert (change["id"], change["kinds"], change["previous"], change["current"]) == (
        third, ["payment"], "shipped", "shipped")
    assert change["previous_status"]["payment"] is None


def test_a_consumer_gets_each_change_once_across_runs(tmp_path: Path) -> None:
    env, store = env_for(tmp_path)
    first = record(store, "A", S.CREATED, 0)
    assert run("changes", "--consumer", "erp", env=env).stdout.startswith(f"{first} ")
    assert run("changes", "--consumer", "erp", env=env).stdout == ""
    second = record(store, "B", S.ON_HOLD, 1)
    again = run("changes", "--consumer", "erp", "--json", env=env)
    assert [json.loads(line)["id"] for line in again.stdout.splitlines()] == [second]
    with SQLiteStore(store) as saved:
        assert saved.consumers() == {"erp": second}


def test_follow_prints_new_changes_until_stopped(tmp_path: Path) -> None:
    env, store = env_for(tmp_path)
    first = record(store, "A", S.CREATED, 0)
    following = start("changes", "--follow", "--consumer", "live", "--interval", "0.05",
                      env=env)
    try:
        assert following.stdout is not None
        assert following.stdout.readline().startswith(f"{first} ")
        second = record(store, "A", S.IN_PRODUCTION, 1)
        assert following.stdout.readline().startswith(f"{second} shop order 'A': created ->")
        following.send_signal(signal.SIGTERM)
        assert following.wait(timeout=10) == 0
    finally:
        following.kill()
        following.communicate()
    # Stopped after printing the second change, maybe before acknowledging it: the next run
    # prints it again or nothing, never skips it.
    rest = run("changes", "--consumer", "live", env=env).stdout.splitlines()
    assert len(rest) <= 1
    assert all(line.startswith(f"{second} ") for line in rest)
    with SQLiteStore(store) as saved:
        assert saved.consumers() == {"live": second}


def test_changes_usage_errors(tmp_path: Path) -> None:
    env, _ = env_for(tmp_path)
    both = run("changes", "--after", "3", "--consumer", "erp", env=env)
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr
    assert run("changes", "--after", "-1", env=env).returncode == 2
    assert run("changes", "--after", "x", env=env).returncode == 2
    bad = run("changes", "--consumer", "two words", env=env)
    assert bad.returncode == 2
    assert bad.stderr == ("orderstatus: error: invalid consumer name 'two words': a consumer "
                          "name must be 1 to 128 printable characters without whitespace\n")
