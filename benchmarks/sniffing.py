"""Async client CPU with and without ``sniffio`` importable.

httpcore asks ``import sniffio`` which event loop it runs under whenever it sets up a lock or
shields a close: several times per request. When sniffio is not installed the import fails,
and a failed import is not remembered, so each of those calls searches every ``sys.path``
entry again. This benchmark fetches orders one after another with ``AsyncClient`` over real
loopback HTTP (httpcore's connection pool; a sandbox served by uvicorn in another process) and
times the client's CPU (``time.process_time``) in interleaved rounds under:

- **as installed**: this environment, unchanged;
- **import resolved**: sniffio imported, when it is installed; otherwise ``import sniffio``
  answered at once from ``sys.modules`` (a ``None`` entry: the import fails without a search,
  and httpcore falls back to asyncio exactly as before), which is what declaring sniffio, or
  avoiding the import, would cost;
- **absent** (only when sniffio is installed): the failed import re-enacted, by a finder that
  searches every other ``sys.path`` entry and then fails, as a real failed import does.

The goal holds the environment as installed to within 3% of the import resolved.
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from orderstatus import AsyncClient

from ._common import PROVIDERS, Result, at_most, interleaved, median, ratios, us
from ._server import served

TARGET = at_most(1.03)


class _Hide:
    """A finder that makes an installed sniffio look absent, at a failed import's cost."""

    def __init__(self, where: str) -> None:
        self.where = where

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: Any = None) -> None:
        if name != "sniffio":
            return
        entries = [p for p in sys.path if p != self.where]
        importlib.machinery.PathFinder.find_spec(name, entries)
        raise ModuleNotFoundError("No module named 'sniffio'", name=name)


def _modes() -> dict[str, Callable[[], None]]:
    """How to put the interpreter in each mode (before a round)."""
    spec = importlib.util.find_spec("sniffio")
    saved: ModuleType | None = importlib.import_module("sniffio") if spec else None
    finders = sys.meta_path

    def as_installed() -> None:
        _unhide()
        if saved is None:
            sys.modules.pop("sniffio", None)
        else:
            sys.modules["sniffio"] = saved

    def resolved() -> None:
        _unhide()
        sys.modules["sniffio"] = saved  # type: ignore[assignment]  # None: fails at once

    def _unhide() -> None:
        finders[:] = [f for f in finders if not isinstance(f, _Hide)]

    modes = {"as installed": as_installed, "import resolved": resolved}
    if spec is not None and spec.origin:
        hide = _Hide(os.path.dirname(os.path.dirname(spec.origin)))

        def absent() -> None:
            _unhide()
            sys.modules.pop("sniffio", None)
            finders.insert(next(n for n, f in enumerate(finders)
                                if f is importlib.machinery.PathFinder), hide)

        modes["absent"] = absent
    return modes


def _measure(provider: str, calls: int, rounds: int) -> Result:
    modes = _modes()
    installed = "absent" in modes
    with served(provider, 16) as sandbox:
        loop = asyncio.new_event_loop()
        client = AsyncClient({provider: sandbox["settings"]}, timeout=30)
        ids = sandbox["ids"]

        def batch(mode: Callable[[], None]) -> Callable[[], None]:
            async def many() -> None:
                for n in range(calls):
                    await client.fetch(provider, ids[n % len(ids)])

            def run_batch() -> None:
                mode()
                loop.run_until_complete(many())

            return run_batch

        try:
            times = interleaved({name: batch(mode) for name, mode in modes.items()}, rounds)
        finally:
            modes["as installed"]()
            loop.run_until_complete(client.aclose())
            loop.close()
    per = {name: median(t) / calls for name, t in times.items()}
    absent = "absent" if installed else "as installed"
    cost = ratios(times[absent], times["import resolved"])
    return Result(
        "async CPU, sniffio", provider, ratios(times["as installed"], times["import resolved"]),
        "the import resolved", TARGET,
        f"sniffio {'installed' if installed else 'NOT installed'}: {us(per['as installed'])} "
        f"CPU per fetch vs {us(per['import resolved'])} resolved; absent costs {cost}",
    )


def run(smoke: bool) -> list[Result]:
    """Per-fetch CPU of the async client over loopback HTTP, for each provider."""
    calls, rounds = (20, 1) if smoke else (150, 9)
    return [_measure(provider, calls, rounds) for provider in PROVIDERS]
