"""Webhook receiver throughput over loopback: orderstatus's ASGI app against a hand-written one.

Each receiver runs under uvicorn in its own process (``benchmarks/_hooks.py``, where the
hand-written app is described): it takes the notification, fetches the order from an
in-process sandbox of the provider, records it in SQLite (WAL, ``synchronous = FULL``, one
transaction per notification) and answers 200. This process is the load generator: 16
keep-alive connections over raw sockets posting prebuilt notifications, exactly as the
provider's sandbox would send them (Print API's ``orderId=…`` form; Gooten's ``?orderid=``
query with the order as the body), each for an order not seen before, so no two in flight
share a fetch. Both servers get the same notifications in interleaved rounds.

The figure is notifications per second (wall time). Beside it: how long a notification takes
to be answered (the median over a round, from its sending to the end of its answer), each
server's own CPU time per notification, and the part of it the in-process sandbox spent
answering the fetch (the same on both sides; a real provider costs the receiver nothing), and
the databases' sizes afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import (
    PROVIDERS,
    ROOT,
    Result,
    Spread,
    at_least,
    interleaved,
    median,
    ratios,
    sandbox,
    us,
)

TARGET = at_least(0.9)
CONNECTIONS = 16
KINDS = ("orderstatus", "handwritten")


class Server:
    """One receiver process: its URL, and its CPU and the sandbox's so far."""

    def __init__(self, child: subprocess.Popen[str]) -> None:
        self.child = child
        hello = self._line()
        self.url: str = hello["url"]
        self.ids: list[str] = hello["ids"]
        self.host, port = self.url.split("//")[1].strip("/").split(":")
        self.port = int(port)

    def _line(self) -> dict[str, Any]:
        assert self.child.stdout is not None
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError("the receiver process stopped")
        return json.loads(line)  # type: ignore[no-any-return]

    def usage(self) -> tuple[float, float]:
        """(CPU seconds, of them the sandbox's) so far."""
        assert self.child.stdin is not None
        self.child.stdin.write("\n")
        self.child.stdin.flush()
        found = self._line()
        return found["cpu"], found["sandbox"]


@contextlib.contextmanager
def receiver(kind: str, provider: str, orders: int, database: Path) -> Iterator[Server]:
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._hooks", kind, provider, str(orders), str(database)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        yield Server(child)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def notifications(provider: str, orders: int, server: Server) -> list[bytes]:
    """One HTTP request per order, as the provider's sandbox sends its webhook."""
    box = sandbox(provider, orders)
    if [box.ids[0], box.ids[-1]] != server.ids:
        raise RuntimeError("the receiver's sandbox holds other orders than the load generator's")
    path = f"/webhooks/{provider}" + ("?orderid=" if provider == "gooten" else "")
    box.subscribe(f"http://{server.host}:{server.port}{path}")
    requests = []
    for order_id in box.ids:
        body, content_type, suffix = box.webhook_notification(order_id)
        requests.append(
            f"POST {path}{suffix} HTTP/1.1\r\nhost: {server.host}:{server.port}\r\n"
            f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return requests


async def blast(host: str, port: int, requests: list[bytes]) -> list[float]:
    """Post every request over keep-alive connections; fail unless each is answered 200.
    Return how long each took, from its sending to the end of its answer (seconds)."""
    queue = collections.deque(requests)
    took: list[float] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while queue:
                start = time.perf_counter()
                writer.write(queue.popleft())
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
                took.append(time.perf_counter() - start)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"receiver answered {head[:12]!r}: {body[:200]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return took


def _measure(provider: str, per_round: int, rounds: int) -> Result:
    orders = per_round * (rounds + 1)
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        databases = {kind: Path(scratch) / f"{kind}.sqlite3" for kind in KINDS}
        servers = {
            kind: stack.enter_context(receiver(kind, provider, orders, databases[kind]))
            for kind in KINDS
        }
        pending = {kind: notifications(provider, orders, server) for kind, server in
                   servers.items()}
        usage: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
        answers: dict[str, list[float]] = {kind: [] for kind in KINDS}

        def round_of(kind: str) -> None:
            server = servers[kind]
            batch, pending[kind] = pending[kind][:per_round], pending[kind][per_round:]
            before = server.usage()
            took = asyncio.run(blast(server.host, server.port, batch))
            after = server.usage()
            usage[kind].append((after[0] - before[0], after[1] - before[1]))
            answers[kind].append(median(took))

        wall = interleaved({kind: lambda kind=kind: round_of(kind) for kind in KINDS}, rounds,
                           clock=time.perf_counter)
        stack.close()
        sizes = {kind: path.stat().st_size for kind, path in databases.items()}
    rates = {kind: [per_round / t for t in times] for kind, times in wall.items()}
    cpu = {kind: median([c for c, _ in found[1:]]) / per_round for kind, found in usage.items()}
    box = {kind: median([s for _, s in found[1:]]) / per_round for kind, found in usage.items()}
    answer = {kind: median(found[1:]) * 1e3 for kind, found in answers.items()}
    cpu_ratio = Spread.of([
        (a[0] - a[1]) / (b[0] - b[1])
        for a, b in zip(usage["orderstatus"][1:], usage["handwritten"][1:], strict=True)
    ])
    return Result(
        "webhook receiver (http)", provider, ratios(rates["orderstatus"], rates["handwritten"]),
        "hand-written ASGI app, same work", TARGET,
        f"{median(rates['orderstatus']):,.0f} notifications/s vs "
        f"{median(rates['handwritten']):,.0f}/s ({per_round:,} a round, {CONNECTIONS} "
        f"connections), each answered in {answer['orderstatus']:.1f} ms vs "
        f"{answer['handwritten']:.1f} ms; server CPU per notification "
        f"{us(cpu['orderstatus'])} vs {us(cpu['handwritten'])}, the sandbox "
        f"{us(box['orderstatus'])} of each; without it "
        f"{cpu_ratio} the CPU; databases {sizes['orderstatus'] / 1024:,.0f} KiB vs "
        f"{sizes['handwritten'] / 1024:,.0f} KiB",
    )


def run(smoke: bool) -> list[Result]:
    """Notifications per second of each receiver, for each provider."""
    per_round, rounds = (40, 1) if smoke else (400, 7)
    return [_measure(provider, per_round, rounds) for provider in PROVIDERS]
