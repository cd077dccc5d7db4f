"""Bounds on every transfer: the call's deadline on each socket operation, and the answer's size.

httpx's timeouts hold per socket read: a server sending a byte every few seconds, or a body
that never ends, is never "timed out". Two layers keep a call within its total budget and its
answers within :data:`DEFAULT_MAX_RESPONSE_BYTES`:

- :func:`network_transport` builds the client's own transport, whose every connect, read and
  write is clipped to what is left of the deadline of the attempt in progress
  (:data:`DEADLINE`, set by the client around each send): dripped headers and bodies included.
- :func:`bounded` wraps every answer's body, whatever the transport (a user's included): it
  decodes ``gzip`` and ``deflate`` itself, never holding more than the cap, refuses any other
  content coding (only those two are asked for), and checks the deadline between chunks.

Both apply to requests an auth flow sends (a token request) as to any other.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpcore
import httpx

from .errors import ResponseFormatError

__all__ = [
    "ACCEPT_ENCODING",
    "CANCEL",
    "DEADLINE",
    "Cancelled",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "bounded",
    "network_transport",
    "pause",
    "release_abandoned",
]

DEFAULT_MAX_RESPONSE_BYTES = 16 * 2**20
"""The largest answer read, decoded (16 MiB)."""
ACCEPT_ENCODING = "gzip, deflate"
"""The content codings asked for: the ones decoded here, within the cap."""
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "orderstatus_deadline", default=None
)
"""When (``time.monotonic()``) the attempt in progress in this thread or task must be over."""
CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "orderstatus_cancel", default=None
)
"""Set, the requests of this thread stop at their next socket operation, and a wait between
attempts at once (:class:`Cancelled`); a read waits in slices of :data:`_SLICE` to notice. Only
a sync ``fetch_many`` sets one: its worker threads cannot be interrupted otherwise when its
caller stops (Ctrl-C)."""
_SLICE = 0.05
"""Seconds a cancellable read waits before it looks at its :data:`CANCEL` event again."""


class Cancelled(BaseException):
    """The call was abandoned by its caller (a ``BaseException``: no handler takes it for a
    failure to retry or report)."""


def pause(seconds: float) -> None:
    """Wait ``seconds`` between attempts (the sync client's default sleep); ended at once by
    this thread's :data:`CANCEL` event (:class:`Cancelled`)."""
    cancel = CANCEL.get()
    if cancel is None:
        time.sleep(seconds)
    elif cancel.wait(seconds):
        raise Cancelled


_PIECE = 64 * 1024
"""Most bytes one decoding step may produce beyond what the cap leaves (memory stays bounded)."""


# -- the deadline on the socket ------------------------------------------------------------------


def _clip(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout``, cut to what is left of the deadline; raise ``expired`` if nothing is, and
    :class:`Cancelled` if the call was abandoned."""
    cancel = CANCEL.get()
    if cancel is not None and cancel.is_set():
        raise Cancelled
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the call's total time is spent")
    return left if timeout is None or timeout > left else timeout


class _Stream(httpcore.NetworkStream):
    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if CANCEL.get() is None:
            return self._stream.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))
        end = None if timeout is None else time.monotonic() + timeout
        while True:  # in slices, to notice a cancellation (nothing is consumed by a timeout)
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ReadTimeout("timed out")
            wait = _clip(left, httpcore.ReadTimeout)
            try:
                return self._stream.read(max_bytes, _SLICE if wait is None else min(wait, _SLICE))
            except httpcore.ReadTimeout:
                if wait is not None and wait <= _SLICE:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(
            ssl_context, server_hostname, _clip(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _Stream(self._backend.connect_tcp(
            host, port, _clip(timeout, httpcore.ConnectTimeout), local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        return _Stream(self._backend.connect_unix_socket(
            path, _clip(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._stream.start_tls(
            ssl_context, server_hostname, _clip(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    def release(self) -> None:
        """Close the socket of a connection whose event loop is closed.

        asyncio closes a transport through its loop (``close()`` schedules the socket's
        closing); a closed loop runs nothing, so the transport's last step is taken here, at
        once. Only asyncio's socket transports under httpcore's anyio streams are reached; any
        other stream is left as it is.
        """
        socket_stream = getattr(self._stream, "_stream", None)  # httpcore's AnyIOStream
        transport = getattr(socket_stream, "_transport", None)  # anyio's asyncio SocketStream
        if getattr(transport, "_sock", None) is None:  # closed already, or not asyncio's
            return
        # a waiter of the dead loop cannot be woken (RuntimeError): it waits for nothing now
        with contextlib.suppress(RuntimeError):
            transport._call_connection_lost(None)  # type: ignore[union-attr]  # as the loop would


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend
        self._streams: weakref.WeakSet[_AsyncStream] = weakref.WeakSet()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        return self._opened(await self._backend.connect_tcp(
            host, port, _clip(timeout, httpcore.ConnectTimeout), local_address, socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        return self._opened(await self._backend.connect_unix_socket(
            path, _clip(timeout, httpcore.ConnectTimeout), socket_options))

    def _opened(self, raw: httpcore.AsyncNetworkStream) -> _AsyncStream:
        stream = _AsyncStream(raw)
        self._streams.add(stream)  # the socket-level stream, under any TLS layer
        return stream

    def release(self) -> None:
        """Close every socket this backend opened that is still open (see
        :meth:`_AsyncStream.release`)."""
        for stream in list(self._streams):
            stream.release()

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def network_transport(limits: httpx.Limits, *, asynchronous: bool) -> Any:
    """httpx's own transport (certificates verified, ``limits`` on its pool), each socket
    operation of which ends by the :data:`DEADLINE` of the attempt it serves.

    httpx takes no network backend, so the pool's is wrapped in place: with
    :func:`release_abandoned`, the one reach into httpx's, httpcore's and asyncio's internals,
    held to by the drip tests in ``tests/hostile`` and the closed-loop test in
    ``tests/test_caller_mistakes.py``.
    """
    if asynchronous:
        atransport = httpx.AsyncHTTPTransport(limits=limits)
        apool = atransport._pool
        apool._network_backend = _AsyncBackend(apool._network_backend)
        return atransport
    transport = httpx.HTTPTransport(limits=limits)
    pool = transport._pool
    pool._network_backend = _Backend(pool._network_backend)
    return transport


def release_abandoned(client: httpx.AsyncClient) -> None:
    """Close the sockets of ``client``, whose event loop was closed without closing it.

    Its connections cannot be closed the usual way (``aclose`` runs in their loop); dropped,
    they would be collected unclosed (``ResourceWarning: unclosed transport``). Only the
    sockets of :func:`network_transport` are reached: a transport given by the caller (an
    ASGI app's, a mock's) is the caller's to close.
    """
    pool = getattr(client._transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, _AsyncBackend):
        backend.release()


# -- the answer's body ---------------------------------------------------------------------------


class _Inflate:
    """One ``gzip`` or ``deflate`` decoding step that never outputs more than it is allowed."""

    __slots__ = ("_kind", "_raw_deflate", "_started", "_z")

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._raw_deflate = False
        self._started = False
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if kind != "deflate" else zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decoded ``data``: at most ``room + 1`` bytes, which means more than ``room``."""
        try:
            out = self._z.decompress(data, room + 1)
        except zlib.error:
            if self._kind != "deflate" or self._started or self._raw_deflate:
                raise
            # "deflate" as many servers send it: raw, without the zlib wrapper
            self._raw_deflate = True
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data, room)
        self._started = True
        return out

    @property
    def complete(self) -> bool:
        return self._z.eof


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An answer's body, decoded, checked against the cap and the deadline chunk by chunk."""

    def __init__(self, raw: Any, response: httpx.Response, codings: list[str], cap: int,
                 deadline: float | None) -> None:
        self._raw = raw
        self._status = response.status_code
        self._request = response.request
        self._declared = response.headers.get("content-length") if not codings else None
        self._refused = sorted({c for c in codings if c not in ("gzip", "deflate")})
        self._steps = [] if self._refused else [_Inflate(c) for c in reversed(codings)]
        self._cap = cap
        self._deadline = deadline
        self._size = 0
        self._fed = False

    def __iter__(self) -> Iterator[bytes]:
        self._start()
        for chunk in self._raw:
            yield self._take(chunk)
        self._finish()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._start()
        async for chunk in self._raw:
            yield self._take(chunk)
        self._finish()

    def close(self) -> None:
        self._raw.close()

    async def aclose(self) -> None:
        await self._raw.aclose()

    def _take(self, chunk: bytes) -> bytes:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise httpx.ReadTimeout("the call's total time is spent", request=self._request)
        room = self._cap - self._size
        self._fed = self._fed or bool(chunk)
        try:
            for step in self._steps:
                chunk = step.feed(chunk, room)
        except zlib.error as err:
            raise httpx.DecodingError(f"undecodable body: {err}", request=self._request) from None
        self._size += len(chunk)
        if self._size > self._cap:
            raise self._too_large()
        return chunk

    def _finish(self) -> None:
        if self._fed and not all(step.complete for step in self._steps):
            raise httpx.DecodingError("compressed body cut short", request=self._request)

    def _start(self) -> None:
        """Refuse at once what the headers already show: a coding never asked for, a size
        past the cap. (Raised here, as the body is read, not while the headers are handled:
        an auth flow's signed request is no local of any frame this error passes.)"""
        if self._refused:
            raise ResponseFormatError(
                f"answer encoded as {', '.join(self._refused)[:40]}, which was not asked for",
                status_code=self._status, retryable=False,
            )
        if self._declared is not None and self._declared.isdigit() \
                and int(self._declared) > self._cap:
            raise self._too_large()

    def _too_large(self) -> ResponseFormatError:
        return self.too_large(self._status, self._cap)

    @staticmethod
    def too_large(status_code: int, cap: int) -> ResponseFormatError:
        """The error of an answer past the cap."""
        return ResponseFormatError(
            f"answer larger than the {_size_text(cap)} limit (max_response_bytes); "
            "not read further", status_code=status_code, retryable=False,
        )


def _size_text(size: int) -> str:
    if size % 2**20 == 0:
        return f"{size // 2**20} MiB"
    if size % 2**10 == 0:
        return f"{size // 2**10} KiB"
    return f"{size} byte"


def bounded(response: httpx.Response, cap: int) -> None:
    """Make ``response``'s body decode within ``cap`` bytes and end by the current deadline.

    Called for every answer as it arrives (an httpx response hook), before its body is read.
    A content coding other than ``gzip`` and ``deflate`` (never asked for) is refused when
    the body is read.
    """
    if response.is_stream_consumed:  # built from bytes by a transport: held whole already
        if len(response.content) > cap:
            raise _Body.too_large(response.status_code, cap)
        return
    header = response.headers.get("content-encoding")
    codings: list[str] = []
    if header is not None:
        for value in header.split(","):
            coding = value.strip().lower()
            if coding and coding != "identity":
                codings.append("gzip" if coding == "x-gzip" else coding)
        del response.headers["content-encoding"]  # decoded here, not again by httpx
    response.stream = _Body(response.stream, response, codings, cap, DEADLINE.get())
