"""Loopback HTTP servers that misbehave on purpose: they drip, stream forever, send bombs.

Each is a real socket server on 127.0.0.1 that reads a request head and answers it with one
of the behaviours below, on every connection (a token request too), until it is closed.
"""

from __future__ import annotations

import contextlib
import functools
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

Behaviour = Callable[[socket.socket, threading.Event], None]

DRIP = 0.05
"""Seconds between two dripped bytes: every read gets data long before any timeout."""


class Misbehaving:
    """A loopback server answering every request with ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.requests = 0
        """Request heads read so far."""
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                body = head.split(b"\r\n\r\n", 1)[1]
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests += 1
                self.behaviour(conn, self._stop)
        except OSError:
            return
        finally:
            conn.close()

    def __enter__(self) -> Misbehaving:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # shutdown wakes the thread blocked in accept()
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(timeout=5)


def _head(*headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", "content-type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    """The status line, then one byte of a header every :data:`DRIP` seconds, forever."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nx-slow: ")
    while not stop.wait(DRIP):
        conn.sendall(b"a")


def drip_body(conn: socket.socket, stop: threading.Event) -> None:
    """Whole headers announcing a 1 MB body, then one byte of it every :data:`DRIP` s."""
    conn.sendall(_head("content-length: 1000000"))
    while not stop.wait(DRIP):
        conn.sendall(b" ")


def slow_chunks(conn: socket.socket, stop: threading.Event) -> None:
    """A chunked body that never ends, one small chunk every :data:`DRIP` seconds."""
    conn.sendall(_head("transfer-encoding: chunked"))
    conn.sendall(b"1\r\n[\r\n")
    while not stop.wait(DRIP):
        conn.sendall(b"2\r\n0,\r\n")


def endless_chunks(conn: socket.socket, stop: threading.Event) -> None:
    """A chunked body that never ends, as fast as the client reads it."""
    conn.sendall(_head("transfer-encoding: chunked"))
    chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
    while not stop.is_set():
        conn.sendall(chunk)


def large(size: int, status: str = "200 OK") -> Behaviour:
    """A body of ``size`` bytes (blanks: valid JSON whitespace), declared, sent at full speed."""
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_head(f"content-length: {size}", status=status))
        block = b" " * 65536
        sent = 0
        while sent < size and not stop.is_set():
            conn.sendall(block[: size - sent])
            sent += len(block)

    return behaviour


def undeclared(size: int) -> Behaviour:
    """A body of ``size`` bytes with no length: it ends when the connection closes."""
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_head("connection: close"))
        block = b" " * 65536
        for _ in range(0, size, len(block)):
            if stop.is_set():
                break
            conn.sendall(block)
        conn.shutdown(socket.SHUT_WR)
        raise OSError("closed")

    return behaviour


@functools.cache
def bomb(coding: str, expanded: int) -> bytes:
    """``expanded`` bytes of blanks compressed as ``coding`` (``gzip`` or ``deflate``)."""
    wbits = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS,
             "raw-deflate": -zlib.MAX_WBITS}[coding]
    z = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b" " * 2**20
    parts = [z.compress(block) for _ in range(expanded // len(block))]
    return b"".join([*parts, z.flush()])


def encoded(body: bytes, coding: str, status: str = "200 OK") -> Behaviour:
    """``body`` sent whole with ``content-encoding: coding``."""
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_head(f"content-encoding: {coding}", f"content-length: {len(body)}",
                           status=status) + body)

    return behaviour


def timed(call: Callable[[], object]) -> tuple[object, float]:
    """``(result or error, seconds it took)``."""
    started = time.monotonic()
    try:
        result: object = call()
    except Exception as err:  # the test looks at what it is
        result = err
    return result, time.monotonic() - started


class Answering:
    """An ASGI app that answers some requests itself and passes the others to ``app`` (a
    sandbox): a server whose error bodies, or some orders' answers, are whatever a test wants,
    while the rest of it works."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.answer: Callable[[set[str]], tuple[int, bytes] | None] = lambda parts: None
        """``(status, body)`` for a request, from the parts of its target (path segments,
        query names and values, decoded); ``None`` passes it to ``app``."""
        self.answered = 0
        self.requests = 0
        """Requests received, answered here or passed on."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.requests += scope["type"] == "http"
        query = scope.get("query_string", b"").decode()
        parts = set(re.split(r"[/?&=]", scope.get("path", "") + "?" + unquote(query)))
        answer = self.answer(parts) if scope["type"] == "http" else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        self.answered += 1
        status, body = answer
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
