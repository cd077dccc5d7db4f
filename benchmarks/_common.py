"""What every benchmark shares: results with their spread, interleaved timing, the sandboxes.

Every figure is a ratio of orderstatus against a baseline doing the same work, measured in the
same run: the variants run in turn within each round (the order rotating from round to round,
so neither always runs first or last on a warm cache), and the ratio is taken round by round.
A result gives the median of those ratios and their interquartile range.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ("printapi", "gooten")
"""The real providers every benchmark measures."""
BASE = "http://127.0.0.1/"
"""Where the in-process sandboxes pretend to live."""


@dataclass(frozen=True)
class Spread:
    """The median of some figures and their interquartile range."""

    median: float
    q1: float
    q3: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if len(values) == 1:
            return cls(values[0], values[0], values[0])
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(median, q1, q3)

    def __str__(self) -> str:
        return f"{self.median:.2f}x (IQR {self.q1:.2f}-{self.q3:.2f})"


@dataclass(frozen=True)
class Target:
    """A goal for a ratio: at most or at least ``value``."""

    value: float
    at_most: bool = True

    def met(self, ratio: float) -> bool:
        return ratio <= self.value if self.at_most else ratio >= self.value

    def __str__(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.value:g}x"


def at_most(value: float) -> Target:
    return Target(value, at_most=True)


def at_least(value: float) -> Target:
    return Target(value, at_most=False)


@dataclass(frozen=True)
class Result:
    """One measured ratio, its spread, the target it is held to and the figures behind it."""

    name: str
    provider: str
    """``printapi``, ``gooten``, or ``-`` for a figure that is not about one provider."""
    ratio: Spread
    baseline: str
    """What the ratio is taken against, in a few words."""
    target: Target
    figure: str
    """The absolute figures (medians), in words and units."""

    @property
    def met(self) -> bool:
        return self.target.met(self.ratio.median)

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return (f"{self.name:<30} {self.provider:<8} {self.ratio!s:<24} goal {self.target!s:<9}"
                f" {verdict:<6} vs {self.baseline}\n{'':<39}{self.figure}")


def interleaved(
    variants: Mapping[str, Callable[[], object]], rounds: int,
    clock: Callable[[], float] = time.process_time,
) -> dict[str, list[float]]:
    """Run every variant once per round, in turn; return each one's ``clock`` time per round.

    One unrecorded round warms everything up first. The order rotates each round.
    """
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds + 1):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            start = clock()
            variants[name]()
            if number:
                times[name].append(clock() - start)
    return times


def ratios(ours: Sequence[float], base: Sequence[float]) -> Spread:
    """Round-by-round ratios of two interleaved series."""
    return Spread.of([a / b for a, b in zip(ours, base, strict=True)])


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def repeat(func: Callable[[], object], calls: int) -> Callable[[], None]:
    """A batch: ``func`` called ``calls`` times."""

    def batch() -> None:
        for _ in range(calls):
            func()

    return batch


class Discard(list[Any]):
    """A sandbox request log that keeps nothing (a long benchmark would fill memory)."""

    def append(self, item: Any) -> None:
        return


def sandbox(provider: str, orders: int = 0, items: int = 2) -> Any:
    """A fresh sandbox of ``provider`` holding ``orders`` orders, its request log switched off.

    Its ``ids`` attribute lists the orders' ids, in creation order.
    """
    if provider == "printapi":
        from orderstatus_printapi.sandbox import PrintApiSandbox

        box: Any = PrintApiSandbox()
    else:
        from orderstatus_gooten.sandbox import GootenSandbox

        box = GootenSandbox()
    box.requests = Discard()
    box.ids = [box.create_order(items=items) for _ in range(orders)]
    return box


def cycling(values: Sequence[str]) -> Callable[[], str]:
    """A function returning the next of ``values`` on each call, round and round."""
    return itertools.cycle(values).__next__


def run_python(
    code: str, *args: str, timeout: float = 300, environ: Mapping[str, str] | None = None
) -> str:
    """Run ``code`` in a fresh interpreter (from the repository root, with ``environ`` added to
    the environment); return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, check=False, env={**os.environ, **(environ or {})},
    )
    if done.returncode:
        raise RuntimeError(f"benchmark subprocess failed:\n{done.stderr[-2000:]}")
    return done.stdout


def us(seconds: float) -> str:
    """Seconds as microseconds, for figures."""
    return f"{seconds * 1e6:.1f} us"
