"""Import time: ``import orderstatus`` against ``import httpx`` alone, in fresh interpreters.

Beside the ratio the issue targets, the first client is timed too (``import`` plus
``Client()``, which loads the installed plugins), since that is what a program pays.
"""

from __future__ import annotations

from ._common import Result, run_python

TARGET = 1.5

_CHILD = """
import time
start = time.perf_counter()
import {module}
imported = time.perf_counter()
{module}.Client({args})
print(imported - start, time.perf_counter() - start)
"""


def _once(module: str) -> tuple[float, float]:
    args = "" if module == "httpx" else "{}"
    imported, with_client = run_python(_CHILD.format(module=module, args=args)).split()
    return float(imported), float(with_client)


def run(smoke: bool) -> list[Result]:
    """Best of several fresh-interpreter imports of each, interleaved."""
    runs: dict[str, list[tuple[float, float]]] = {"httpx": [], "orderstatus": []}
    for _ in range(1 if smoke else 15):
        for module, times in runs.items():
            times.append(_once(module))
    httpx_t, httpx_c = (min(column) for column in zip(*runs["httpx"], strict=True))
    ours_t, ours_c = (min(column) for column in zip(*runs["orderstatus"], strict=True))
    ratio = ours_t / httpx_t
    return [Result(
        "import time", f"orderstatus {ours_t * 1e3:.0f} ms vs httpx {httpx_t * 1e3:.0f} ms; "
        f"with the first client (plugins loaded): {ours_c * 1e3:.0f} ms vs "
        f"{httpx_c * 1e3:.0f} ms ({ours_c / httpx_c:.2f}x)",
        ratio, "import orderstatus / import httpx", f"<= {TARGET}x", ratio <= TARGET,
    )]
