"""What every benchmark shares: results, timing, the payload and the fakeshop set-up."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench+key/with=reserved&chars"
"""The fakeshop credential every benchmark uses (reserved characters, so encoding is exercised)."""
BASE = "http://127.0.0.1/v1/"


@dataclass
class Result:
    """One measured figure, its baseline ratio and the target it is held to."""

    name: str
    figure: str
    """What was measured, in words and units."""
    ratio: float
    """The figure against its baseline (see ``ratio_label``)."""
    ratio_label: str
    target: str
    met: bool

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return (f"{self.name:<26} {self.ratio:8.2f}x {self.ratio_label:<34} "
                f"target {self.target:<16} {verdict:<6}  {self.figure}")


def order_payload(order_id: str, items: int = 2) -> dict[str, Any]:
    """A fakeshop order as its API answers it."""
    return {
        "id": order_id, "payment": "paid", "updated": "2026-01-01T00:00:00Z",
        "items": [
            {"id": f"{order_id}-{n}", "status": "sent",
             "tracking_url": f"https://track.invalid/{order_id}/{n}"}
            for n in range(items)
        ],
    }


def canned_transport() -> httpx.MockTransport:
    """An in-process transport answering every ``orders/{id}`` with a fixed-shape order."""

    def handler(request: httpx.Request) -> httpx.Response:
        order_id = request.url.path.rsplit("/", 1)[-1]
        body = json.dumps(order_payload(order_id)).encode()
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


def fakeshop_settings(base_url: str = BASE, key: str = KEY) -> dict[str, dict[str, str]]:
    return {"fakeshop": {"api_key": key, "base_url": base_url}}


def require_fakeshop() -> None:
    """Fail clearly when the test plugin the benchmarks run against is missing."""
    try:
        import orderstatus_fakeshop  # noqa: F401
    except ImportError:
        sys.exit("benchmarks need the fakeshop test plugin: pip install -e tests/fakeshop")


def best_per_call(func: Callable[[], object], calls: int, rounds: int) -> float:
    """Fastest seconds per call over ``rounds`` rounds of ``calls`` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def run_python(code: str, timeout: float = 300) -> str:
    """Run ``code`` in a fresh interpreter (from the repository root); return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    if done.returncode:
        raise RuntimeError(f"benchmark subprocess failed:\n{done.stderr[-2000:]}")
    return done.stdout


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ids(count: int, prefix: str = "B-") -> Iterator[str]:
    return (f"{prefix}{n}" for n in range(count))
