"""Running the ``orderstatus`` command as a subprocess against the fakeshop sandbox."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from orderstatus.cli import main
from orderstatus.testing.asgi import serve

COMMAND = [sys.executable, "-m", "orderstatus"]


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any ORDERSTATUS_ variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERSTATUS_")}
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str], stdin: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``orderstatus ARGS`` to completion."""
    return subprocess.run(
        [*COMMAND, *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``orderstatus ARGS`` (a long-running command) with piped output."""
    return subprocess.Popen(
        [*COMMAND, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture
def served(sandbox: FakeshopSandbox) -> Iterator[str]:
    """The fakeshop sandbox served over loopback HTTP; its base URL."""
    with serve(sandbox.asgi()) as url:
        yield url


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite3"


@pytest.fixture
def env(served: str, store: Path, tmp_path: Path) -> dict[str, str]:
    """An environment configuring fakeshop (only) against the served sandbox."""
    return clean_env(
        ORDERSTATUS_FAKESHOP_API_KEY=API_KEY,
        ORDERSTATUS_FAKESHOP_BASE_URL=served + "v1/",
        ORDERSTATUS_STORE=str(store),
        HOME=str(tmp_path),
    )


@attrs.frozen
class Result:
    returncode: int
    stdout: str
    stderr: str


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Invoke:
    """Run ``main(ARGS)`` in this process (for the many small cases), with ``env`` applied."""
    for name in list(os.environ):
        if name.startswith("ORDERSTATUS_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("ORDERSTATUS_") or name == "HOME":
            monkeypatch.setenv(name, value)

    def call(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return call
