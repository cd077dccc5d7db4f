"""``watch`` (one sweep, and running until stopped) and ``serve`` (the webhook receiver)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus.stores import SQLiteStore

from .conftest import Invoke, clean_env, run, start


def _track(env: dict[str, str], *orders: str) -> None:
    done = run("fetch", "--track", *(f"fakeshop:{o}" for o in orders), env=env)
    assert done.returncode == 0, done.stderr


def test_watch_once_prints_the_changes_of_tracked_orders(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    moving, still = sandbox.create_order(), sandbox.create_order()
    _track(env, moving, still)
    sandbox.set_status(moving, "sent")
    done = run("watch", "--once", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"fakeshop order '{moving}': created -> shipped (sent); skipped in_production\n"
    )
    assert "watching 2 open tracked orders of fakeshop" in done.stderr
    again = run("watch", "--once", "--json", env=env)
    assert (again.returncode, again.stdout) == (0, "")
    # Sweeps add no history row for an order that did not change.
    with SQLiteStore(env["ORDERSTATUS_STORE"]) as saved:
        assert [e.outcome.value for e in saved.history("fakeshop", still)] == ["change"]


def test_watch_json_and_a_failed_fetch_exits_1(
    invoke: Invoke, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    assert invoke("fetch", "--track", f"fakeshop:{order}").returncode == 0
    sandbox.set_status(order, "void")
    done = invoke("watch", "--once", "--json")
    assert done.returncode == 0
    change = json.loads(done.stdout)
    assert (change["previous"], change["current"], change["anomaly"]) == (
        "created", "cancelled", False
    )
    assert change["status"]["native_status"] == "void"
    other = sandbox.create_order()
    assert invoke("fetch", "--track", f"fakeshop:{other}").returncode == 0
    sandbox.faults.inject("status", status=404, times=5)
    failed = invoke("watch", "--once")
    assert failed.returncode == 1
    assert "fetch failed" in failed.stderr


def test_watch_runs_until_interrupted(env: dict[str, str], sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    _track(env, order)
    watching = start("watch", "--interval", "0.1", env=env)
    try:
        assert watching.stderr is not None
        assert watching.stdout is not None
        assert "watching 1 open tracked orders" in watching.stderr.readline()
        sandbox.set_status(order, "making")
        assert watching.stdout.readline() == (
            f"fakeshop order '{order}': created -> in_production (making)\n"
        )
        watching.send_signal(signal.SIGINT)
        assert watching.wait(timeout=10) == 0
    finally:
        watching.kill()
        watching.communicate()


def test_watch_needs_a_configured_provider_and_a_positive_interval(tmp_path: Path) -> None:
    env = clean_env(ORDERSTATUS_STORE=str(tmp_path / "s.sqlite3"))
    done = run("watch", "--once", env=env)
    assert done.returncode == 3
    assert done.stderr == ("orderstatus: error: no provider is configured: set "
                           "ORDERSTATUS_<PROVIDER>_* variables or pass --config\n")
    assert run("watch", "--interval", "0", env=env).returncode == 2


def test_serve_receives_webhooks_into_the_store(
    env: dict[str, str], sandbox: FakeshopSandbox, store: Path
) -> None:
    serving = start("serve", "--port", "0", env=env)
    try:
        assert serving.stderr is not None
        assert serving.stdout is not None
        banner = serving.stderr.readline()
        assert banner.startswith("receiving webhooks at http://127.0.0.1:")
        base = banner.split(" at ")[1].split("/webhooks/")[0]
        sandbox.subscribe(f"{base}/webhooks/fakeshop")
        order = sandbox.create_order()
        sandbox.set_status(order, "making")
        assert sandbox.advance(1) == 2
        assert all(d.delivered for d in sandbox.webhooks.deliveries)
        assert serving.stdout.readline() == (
            f"fakeshop order '{order}': first seen in_production (making)\n"
        )
        assert httpx.post(f"{base}/webhooks/nosuch", content=b"{}").status_code == 404
        serving.send_signal(signal.SIGTERM)
        assert serving.wait(timeout=10) == 0
    finally:
        serving.kill()
        serving.communicate()
    with SQLiteStore(store) as saved:
        # The second notification's fetch was a duplicate, not kept in the history.
        assert [e.outcome.value for e in saved.history("fakeshop", order)] == ["change"]
        assert [c.order_id for c in saved.changes()] == [order]


def test_serve_errors(env: dict[str, str], tmp_path: Path, served: str) -> None:
    port = served.rsplit(":", 1)[1].strip("/")
    taken = run("serve", "--port", port, env=env)
    assert taken.returncode == 3
    assert taken.stderr.startswith(f"orderstatus: error: cannot listen on 127.0.0.1:{port}")
    blocker = tmp_path / "no_uvicorn"
    blocker.mkdir()
    (blocker / "uvicorn.py").write_text("raise ImportError('uvicorn is not installed')\n")
    for command in ("serve", "demo"):
        missing = run(command, env={**env, "PYTHONPATH": str(blocker)})
        assert missing.returncode == 3
        assert missing.stderr == (
            f"orderstatus: error: {command if command == 'serve' else 'the demo'} needs "
            "uvicorn: pip install 'orderstatus[server]'\n"
        )


def test_serve_prints_each_change_as_one_whole_line(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    orders = [sandbox.create_order() for _ in range(60)]
    serving = start("serve", "--port", "0", env=env)
    try:
        assert serving.stderr is not None
        base = serving.stderr.readline().split(" at ")[1].split("/webhooks/")[0]

        async def notify_all() -> list[int]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                answers = await asyncio.gather(*(
                    http.post("/webhooks/fakeshop", json={"order": o}) for o in orders
                ))
            return [a.status_code for a in answers]

        assert asyncio.run(notify_all()) == [200] * len(orders)
        serving.send_signal(signal.SIGTERM)
        out, _ = serving.communicate(timeout=10)
    finally:
        serving.kill()
        serving.communicate()
    assert serving.returncode == 0
    assert sorted(out.splitlines()) == sorted(
        f"fakeshop order '{o}': first seen created (new)" for o in orders
    )
