"""Instruction counts of the fetch and observe benchmarks' variants, under valgrind's callgrind.

``python -m benchmarks.instructions [--calls N]`` (needs valgrind; several minutes) runs each
variant in its own interpreter twice, with no calls and with N calls after the same set-up, and
prints the difference divided by N: machine instructions per call, which other work on a shared
machine cannot disturb. It is not part of ``python -m benchmarks``: it is how the figures in
``docs/performance.md`` were checked where CPU time was too noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from . import _handwritten as handwritten
from ._common import PROVIDERS, ROOT, cycling

OBSERVED = 30
"""Orders walked for the observe workload: 180 observations, of which the counted calls take
all but the warm-up's and the last few, so they hold each outcome as the benchmark does."""
VARIANTS = {
    "fetch": ("orderstatus", "baseline", "sandbox"),
    "observe": ("orderstatus", "baseline"),
}


def _fetch(provider: str, variant: str) -> Callable[[], object]:
    from orderstatus import Client

    from .overhead import Setup

    setup = Setup.of(provider)
    following = cycling(setup.box.ids)
    if variant == "orderstatus":
        client = Client({provider: setup.settings}, transport=setup.transport)
        return lambda: client.fetch(provider, following())
    if variant == "sandbox":
        box, url, headers = setup.box, setup.url, setup.headers
        return lambda: box.handle(httpx.Request("GET", url(following()), headers=headers))
    return setup.raw(httpx.Client(transport=setup.transport, headers=setup.headers))


def _observe(provider: str, variant: str) -> Callable[[], object]:
    from orderstatus.stores import SQLiteStore
    from orderstatus.tracking import Tracker

    from .observe import answer, observations, observe_raw

    statuses = iter(observations(provider, OBSERVED))
    scratch = Path(tempfile.mkdtemp())
    if variant == "orderstatus":
        tracker = Tracker(SQLiteStore(scratch / "ours.sqlite3"))
        return lambda: tracker.observe(next(statuses))
    raw = handwritten.RawTracker(scratch / "raw.sqlite3")

    def baseline() -> object:
        status = next(statuses)
        return observe_raw(raw, status, answer(status))

    return baseline


def child(workload: str, provider: str, variant: str, calls: int) -> None:
    func = (_fetch if workload == "fetch" else _observe)(provider, variant)
    for _ in range(3):  # warm-up, the same in the runs with and without calls
        func()
    for _ in range(calls):
        func()


def instructions(workload: str, provider: str, variant: str, calls: int) -> int:
    """Instructions the whole child executes (callgrind's total)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
             "-m", "benchmarks.instructions", "--child", workload, provider, variant,
             str(calls)],
            cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        assert found is not None
        return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--child", nargs=4, metavar=("WORKLOAD", "PROVIDER", "VARIANT", "N"))
    args = parser.parse_args()
    if args.child:
        workload, provider, variant, calls = args.child
        child(workload, provider, variant, int(calls))
        return
    for workload, variants in VARIANTS.items():
        calls = args.calls if workload == "fetch" else min(args.calls, OBSERVED * 6 - 10)
        for provider in PROVIDERS:
            per = {}
            for variant in variants:
                idle = instructions(workload, provider, variant, 0)
                per[variant] = (instructions(workload, provider, variant, calls) - idle) / calls
            line = ", ".join(f"{name} {count:,.0f}" for name, count in per.items())
            ratio = per["orderstatus"] / per["baseline"]
            net = ""
            if "sandbox" in per:
                ours, base, box = per["orderstatus"], per["baseline"], per["sandbox"]
                net = f"; sandbox taken out: {(ours - box) / (base - box):.2f}x"
            print(f"{workload:<8} {provider:<8} instructions per call: {line} "
                  f"({ratio:.2f}x{net})", flush=True)


if __name__ == "__main__":
    main()
