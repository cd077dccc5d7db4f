"""Stopping the command with SIGINT (Ctrl-C) and SIGTERM, at many moments, as a user would.

Every case runs the real command as a subprocess and times it from the signal to its exit:
the exit code must be the documented one every time (130 for a one-off command, 0 for a
serving one), the exit prompt ("well under 5 s": requests in flight are cancelled, not waited
for) and stderr free of tracebacks. Slow providers are a loopback server that reads each
request and never answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from tests.providers import LOCAL

from .conftest import COMMAND, clean_env

BOUND = 5.0
"""Seconds a stopped command may take to exit: generous, so that a loaded machine passes."""

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(),
    reason="waits for the command's signal handlers in /proc (Linux)",
)


class Stalling:
    """A loopback HTTP server that reads each request and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.seen = 0
        """Requests read so far."""
        self._changed = threading.Condition()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            try:
                chunk = conn.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            head += chunk
        with self._changed:
            self.seen += 1
            self._changed.notify_all()

    def wait_for_request(self, after: int, timeout: float = 30) -> None:
        """Wait until more than ``after`` requests were read."""
        with self._changed:
            assert self._changed.wait_for(lambda: self.seen > after, timeout), "no request came"

    def close(self) -> None:
        self.sock.close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def stalling() -> Iterator[Stalling]:
    server = Stalling()
    yield server
    server.close()


def _default_sigint() -> None:
    """In the child: SIGINT as a terminal's foreground command has it (not inherited ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def launch(*args: str, env: dict[str, str], stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args], env=env, stdin=stdin, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint,
    )


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (``SigCgt`` in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def wait_until_catching(proc: subprocess.Popen[str], signum: int, timeout: float = 30) -> None:
    """Wait until the command has taken ``signum`` (it has started: parsed its arguments)."""
    deadline = time.monotonic() + timeout
    while not catches(proc.pid, signum):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the command never took the signal"
        time.sleep(0.002)


def stop(proc: subprocess.Popen[str], *signums: int, between: float = 0.0
         ) -> tuple[int, float, str, str]:
    """Send ``signums`` (``between`` s apart); ``(exit code, s from first signal to exit,
    stdout, stderr)``."""
    started = time.monotonic()
    try:
        for n, signum in enumerate(signums):
            if n:
                time.sleep(between)
            if proc.poll() is None:
                proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, time.monotonic() - started, out, err


def assert_stopped(result: tuple[int, float, str, str], code: int) -> str:
    """The command exited with ``code``, promptly, without a traceback; its stdout."""
    returncode, elapsed, out, err = result
    assert returncode == code, err
    assert elapsed < BOUND, f"took {elapsed:.2f} s to stop"
    assert "Traceback" not in err, err
    return out


@pytest.fixture
def stalled_env(stalling: Stalling, tmp_path: Path) -> dict[str, str]:
    """Fakeshop configured against the stalling server."""
    return clean_env(ORDERSTATUS_FAKESHOP_API_KEY=API_KEY,
                     ORDERSTATUS_FAKESHOP_BASE_URL=stalling.url + "v1/",
                     ORDERSTATUS_STORE=str(tmp_path / "store.sqlite3"), HOME=str(tmp_path))


# -- one-off commands: 130 -----------------------------------------------------------------------


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_ctrl_c_cancels_a_slow_fetch_and_exits_130(
    stalled_env: dict[str, str], stalling: Stalling, delay: float
) -> None:
    before = stalling.seen
    proc = launch("fetch", "--track", "fakeshop:F-1", "fakeshop:F-2", "fakeshop:F-3",
                  env=stalled_env)
    stalling.wait_for_request(before)
    time.sleep(delay)
    assert proc.poll() is None, "the fetch should still be waiting for its answers"
    _, _, _, err = result = stop(proc, signal.SIGINT)
    assert_stopped(result, 130)
    assert err == "orderstatus: interrupted\n"


def test_a_second_ctrl_c_changes_nothing(
    stalled_env: dict[str, str], stalling: Stalling
) -> None:
    for between in (0.0, 0.02):
        before = stalling.seen
        proc = launch("fetch", "fakeshop:F-1", "fakeshop:F-2", env=stalled_env)
        stalling.wait_for_request(before)
        result = stop(proc, signal.SIGINT, signal.SIGINT, signal.SIGINT, between=between)
        assert_stopped(result, 130)


def test_ctrl_c_while_reading_references_exits_130(
    stalled_env: dict[str, str], tmp_path: Path
) -> None:
    """Before any request: the command is blocked reading ``--from`` a pipe."""
    fifo = tmp_path / "refs"
    os.mkfifo(fifo)
    for _ in range(2):
        proc = launch("fetch", "--from", str(fifo), env=stalled_env)
        with fifo.open("w") as writer:  # returns once the command has opened it to read
            writer.write("fakeshop:F-1\n")
            writer.flush()
            result = stop(proc, signal.SIGINT)
        assert_stopped(result, 130)


def test_ctrl_c_cancels_a_slow_update_and_exits_130(
    stalled_env: dict[str, str], stalling: Stalling
) -> None:
    before = stalling.seen
    proc = launch("update", "fakeshop:F-1", "--to", "cancelled", env=stalled_env)
    stalling.wait_for_request(before)
    assert_stopped(stop(proc, signal.SIGINT), 130)


# -- serving commands: 0 -------------------------------------------------------------------------

INT, TERM = signal.SIGINT, signal.SIGTERM


def stops_with_0_while_starting(*args: str, env: dict[str, str]) -> None:
    """Signal ``args`` right after it took its signals, and a little later (still starting,
    or just serving)."""
    for signum, delay in ((INT, 0.0), (TERM, 0.0), (INT, 0.05), (TERM, 0.15)):
        proc = launch(*args, env=env)
        wait_until_catching(proc, signal.SIGTERM)
        time.sleep(delay)
        assert_stopped(stop(proc, signum), 0)


def _wait_for_line(stream: IO[str] | None, text: str) -> str:
    assert stream is not None
    for line in iter(stream.readline, ""):
        if text in line:
            return line
    raise AssertionError(f"the command ended before printing {text!r}")


def test_sandbox_stops_with_0_at_any_moment() -> None:
    env = clean_env()
    stops_with_0_while_starting("sandbox", "--port", "0", env=env)
    for signals in ((TERM,), (INT, TERM, INT)):  # once serving; a second and third signal
        proc = launch("sandbox", "--port", "0", env=env)
        _wait_for_line(proc.stdout, "# Serving until Ctrl-C.")
        assert_stopped(stop(proc, *signals, between=0.01), 0)


@pytest.fixture
def tracked_env(tmp_path: Path, sandbox: FakeshopSandbox) -> Iterator[dict[str, str]]:
    """Fakeshop against its served sandbox, with a store tracking two open orders."""
    from orderstatus import Client, SQLiteStore, Tracker
    from orderstatus.testing.asgi import serve

    store = tmp_path / "store.sqlite3"
    with Client({"fakeshop": sandbox.settings(LOCAL)}, transport=sandbox.transport()) as client, \
            Tracker(SQLiteStore(store)) as tracker:
        for _ in range(2):
            tracker.observe(client.fetch("fakeshop", sandbox.create_order()))
    with serve(sandbox.asgi()) as url:
        yield clean_env(ORDERSTATUS_FAKESHOP_API_KEY=API_KEY,
                        ORDERSTATUS_FAKESHOP_BASE_URL=url + "v1/",
                        ORDERSTATUS_STORE=str(store), HOME=str(tmp_path))


def test_serve_stops_with_0_at_any_moment(tracked_env: dict[str, str]) -> None:
    stops_with_0_while_starting("serve", "--port", "0", env=tracked_env)
    for signals in ((INT,), (TERM, INT, TERM)):
        proc = launch("serve", "--port", "0", env=tracked_env)
        _wait_for_line(proc.stderr, "receiving webhooks at ")
        assert_stopped(stop(proc, *signals, between=0.01), 0)


def _notify(base: str, answers: list[int | None]) -> None:
    """Post a notification; record its answer's status, or ``None`` if cut off unanswered."""
    import httpx

    try:
        answers.append(httpx.post(f"{base}/webhooks/fakeshop", json={"order": "F-1"},
                                  timeout=30).status_code)
    except httpx.HTTPError:
        answers.append(None)


@pytest.mark.parametrize("signum", [INT, TERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_with_0_while_a_notification_waits_on_a_slow_provider(
    signum: int, stalled_env: dict[str, str], stalling: Stalling
) -> None:
    """The notification gets its grace period, then is cut off (uvicorn answers 500 if it
    still can): its provider sends it again."""
    proc = launch("serve", "--port", "0", env=stalled_env)
    base = _wait_for_line(proc.stderr, "receiving webhooks at ").split(" at ")[1]
    answers: list[int | None] = []
    before = stalling.seen
    poster = threading.Thread(target=_notify, args=(base.split("/webhooks/")[0], answers))
    poster.start()
    stalling.wait_for_request(before)
    assert_stopped(stop(proc, signum), 0)
    poster.join(timeout=10)
    assert answers in ([500], [None])  # never a 200: nothing was stored


def test_watch_stops_with_0_while_starting_and_between_sweeps(
    tracked_env: dict[str, str]
) -> None:
    stops_with_0_while_starting("watch", "--interval", "0.2", env=tracked_env)
    for signals in ((TERM,), (INT, INT)):  # between sweeps (one every 60 s)
        proc = launch("watch", "--interval", "60", env=tracked_env)
        _wait_for_line(proc.stderr, "watching 2 open tracked orders")
        time.sleep(0.2)
        assert_stopped(stop(proc, *signals, between=0.01), 0)


@pytest.mark.parametrize("signum", [INT, TERM], ids=["SIGINT", "SIGTERM"])
def test_watch_stops_a_stalled_sweep(
    signum: int, tracked_env: dict[str, str], stalling: Stalling
) -> None:
    """Its orders' provider never answers: the sweep in flight is cancelled. ``--once`` is a
    one-off command, interrupted: 130."""
    env = {**tracked_env, "ORDERSTATUS_FAKESHOP_BASE_URL": stalling.url + "v1/"}
    for once, code in ((False, 0), (True, 130)):
        before = stalling.seen
        proc = launch("watch", *(["--once"] if once else []), env=env)
        stalling.wait_for_request(before)
        assert_stopped(stop(proc, signum), code)
