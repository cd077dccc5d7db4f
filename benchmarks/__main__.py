"""Run the benchmarks: ``python -m benchmarks [--smoke] [--only NAME ...]``.

Each benchmark prints, for each provider, the median ratio against its baseline over
interleaved rounds, its interquartile range and whether its goal was met. ``--smoke`` runs tiny
sizes to check that everything runs (CI); its timings mean nothing. The exit status is 0 unless
a benchmark failed to run; a missed goal is reported, not fatal, because timings depend on the
machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import platform
import sys
import time
import traceback

from ._common import Result

BENCHMARKS = (  # one line each, so that benchmarks added on other branches merge cleanly
    "overhead",
    "bulk",
    "mapping",
    "storm",
    "memory",
    "importtime",
    "observe",
    "sniffing",
    "receiver",
    "sweep",
    "postgres",
)


def machine() -> str:
    """One line about where the figures come from."""
    import os

    cpu = "unknown cpu"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
            cpu,
        )
    return (f"{cpu}, {os.cpu_count()} cpus, Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; only checks they run")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    print(f"# {machine()}{' (smoke run: timings are not meaningful)' if args.smoke else ''}")
    results: list[Result] = []
    broken = []
    for name in args.only or BENCHMARKS:
        started = time.perf_counter()
        try:
            found = importlib.import_module(f"benchmarks.{name}").run(args.smoke)
        except Exception:
            traceback.print_exc()
            broken.append(name)
            continue
        for result in found:
            print(result.line(), flush=True)
        print(f"  ({name}: {time.perf_counter() - started:.1f} s)", flush=True)
        results.extend(found)
    missed = [f"{r.name} [{r.provider}]" for r in results if not r.met]
    print(f"# {len(results) - len(missed)} of {len(results)} goals met"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    if broken:
        print(f"# failed to run: {', '.join(broken)}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
