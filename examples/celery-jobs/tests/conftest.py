"""A real Celery worker process and the receiver on a real WSGI server, both pointed at
sandboxes served on loopback, with kombu's filesystem transport as the broker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

# Before the Celery app is imported: the broker is a directory, for this session only.
os.environ["CELERY_BROKER_URL"] = "filesystem://"
os.environ["CELERY_FILESYSTEM_FOLDER"] = tempfile.mkdtemp(prefix="orderstatus-broker-")

from orderstatus_gooten import GootenSandbox
from orderstatus_jobs import orders, receiver
from orderstatus_printapi import PrintApiSandbox

from orderstatus import SQLiteStore, Tracker, default_registry
from orderstatus.settings import env_names
from orderstatus.testing import wsgi
from orderstatus.testing.asgi import serve

BROKER = Path(os.environ["CELERY_FILESYSTEM_FOLDER"])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("jobs")
    shutil.rmtree(BROKER, ignore_errors=True)


@pytest.fixture(scope="module")
def sandboxes() -> dict[str, Any]:
    """A Print API and a Gooten sandbox for the module's tests."""
    return {"printapi": PrintApiSandbox(), "gooten": GootenSandbox()}


@pytest.fixture(scope="module")
def served(sandboxes: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Each sandbox's base URL on loopback."""
    with ExitStack() as stack:
        yield {name: stack.enter_context(serve(sandbox.asgi()))
               for name, sandbox in sandboxes.items()}


@pytest.fixture(scope="module")
def environment(sandboxes: dict[str, Any], served: dict[str, str],
                workdir: Path) -> Iterator[dict[str, str]]:
    """``ORDERSTATUS_*`` variables for the sandboxes, set here and handed to the worker."""
    variables = {"ORDERSTATUS_STORE": str(workdir / "orders.sqlite3")}
    for name, sandbox in sandboxes.items():
        fields = env_names(name, default_registry().provider(name).settings_class)
        for field, value in sandbox.settings(served[name]).items():
            variables[fields[field]] = str(value)
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    yield variables
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    orders.client.cache_clear()
    orders.tracker.cache_clear()


@pytest.fixture(scope="module")
def worker(environment: dict[str, str], workdir: Path) -> Iterator[Path]:
    """A Celery worker process; yields its log file."""
    log = workdir / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "orderstatus_jobs.app", "worker",
             "--pool=solo", "--loglevel=INFO", "--without-heartbeat", "--without-gossip",
             "--without-mingle"],
            env={**os.environ, **environment}, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ready." in log.read_text() or process.poll() is not None, 60, log)
        assert process.poll() is None, log.read_text()
        yield log
    finally:
        process.terminate()  # a warm shutdown: the task at hand finishes
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def receiver_url(environment: dict[str, str]) -> Iterator[str]:
    """The receiver's WSGI application behind a real server on loopback."""
    with wsgi.serve(receiver.application) as url:
        yield url


@pytest.fixture
def recorded(environment: dict[str, str]) -> Iterator[Tracker]:
    """What the worker stored, read from the same SQLite file."""
    with Tracker(SQLiteStore(environment["ORDERSTATUS_STORE"])) as tracker:
        yield tracker


def wait_for(condition: Any, seconds: float, log: Path | None = None) -> None:
    """Poll ``condition`` (another process is at work) until it holds or time runs out; the
    failure shows the end of the worker's ``log``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            tail = "" if log is None else "; its log ends:\n" + log.read_text()[-4000:]
            raise AssertionError(f"timed out waiting for the worker{tail}")
        time.sleep(0.05)
