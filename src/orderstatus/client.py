"""``Client`` and ``AsyncClient``: the only place that sends HTTP.

Both run the same operations (:mod:`orderstatus._operations`, over the HTTP exchange of
:mod:`orderstatus._exchange`); they differ only in how a request is sent and how a wait is slept.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

import httpx

from ._context import ErrorContext, error_context
from ._exchange import Exchange, Op, Reply, SendRequest, Sleep, error_boundary
from ._observer import Aside, Observer, request_hook, response_hook, sending
from ._operations import Operations, checked_refs
from ._redaction import Redactor, guard_loggers
from ._transfer import (
    ACCEPT_ENCODING,
    CANCEL,
    DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    bounded,
    network_transport,
    pause,
    release_abandoned,
)
from ._version import __version__
from .errors import ConfigurationError, OrderStatusError, UsageError
from .lifecycle import OrderState
from .mapping import StatusMapper
from .models import FeedPage, FetchFailure, OrderStatus
from .plugins import Registry, default_registry
from .provider import Provider
from .retry import RetryPolicy
from .settings import Sealed, secret_values, settings_from_environ, settings_from_mapping
from .telemetry import EventHook

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

__all__ = ["AsyncClient", "Client", "OrderRef"]

R = TypeVar("R")
P = ParamSpec("P")
TransportT = TypeVar("TransportT")
SleepT = TypeVar("SleepT")
HttpT = TypeVar("HttpT")
ClientT = TypeVar("ClientT", bound="_BaseClient[Any, Any, Any]")
OrderRef = tuple[str, str]
"""``(provider, order_id)``."""
FetchResult = OrderStatus | FetchFailure
_DEFAULT_HEADERS = {
    "user-agent": f"orderstatus/{__version__} (+https://pypi.org/project/orderstatus/)",
    "accept": "application/json",
    "accept-encoding": ACCEPT_ENCODING,
}


class _BaseClient(abc.ABC, Generic[TransportT, SleepT, HttpT]):
    """Configuration shared by both clients."""

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        transport: TransportT | Mapping[str, TransportT] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = 10.0,
        strict: bool = False,
        limits: Mapping[str, int] | None = None,
        registry: Registry | None = None,
        sleep: SleepT | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        on_event: EventHook | None = None,
    ) -> None:
        """Build a client for the providers named in ``settings``.

        Args:
            settings: provider name -> its settings (a mapping, or the provider's settings
                object). Bad settings raise :class:`ConfigurationError` here.
            transport: an httpx transport for every provider, or provider -> transport.
            retry: how hard to retry safe requests (:class:`RetryPolicy`).
            timeout: seconds (or an :class:`httpx.Timeout`) per request.
            strict: raise :class:`UnmappedStatusError` instead of returning ``unknown``.
            limits: provider -> requests in flight at once (default: the provider's own).
            registry: where providers come from (default: installed plugins).
            sleep: how to wait between attempts (default: :func:`time.sleep`, cut short when
                a sync ``fetch_many`` stops, or :func:`asyncio.sleep` for the async client);
                tests pass a recorder.
            max_response_bytes: the largest answer read, decoded (default 16 MiB); a larger
                one raises :class:`ResponseFormatError`, unread past the limit.
            on_event: called with every :class:`~orderstatus.telemetry.RequestEvent` (each
                attempt sent and finished, each retry scheduled); an exception it raises is
                logged, never raised (see :mod:`orderstatus.telemetry`).
        """
        # from here on the settings travel sealed (see orderstatus.settings): no frame an
        # error passes through shows a credential in a local
        sealed = Sealed({} if settings is None else settings)
        del settings
        if not isinstance(sealed.open(), Mapping):
            raise ConfigurationError(
                f"settings must map provider names to settings, not "
                f"{type(sealed.open()).__name__}")
        self.registry = registry or default_registry()
        providers: dict[str, Provider] = {}
        for name in sorted(sealed.open()):
            cls = self.registry.provider(name)
            known = Redactor()  # e.g. a base_url quoting a misplaced secret is refused clean
            with error_boundary(ErrorContext(clean=known)):
                configured = settings_from_mapping(name, cls.settings_class, sealed.part(name))
                known.add(secret_values(configured))
                providers[name] = cls(configured)
        guard_loggers(_secrets(providers))
        override = self.registry.map_override if self.registry.has_map_overrides else None
        self._ops = Operations(
            providers=providers,
            mappers={n: StatusMapper(type(p), override) for n, p in providers.items()},
            exchange=Exchange(retry=retry or RetryPolicy(), redact=Redactor(_secrets(providers)),
                              observer=Observer(on_event)),
            strict=strict,
        )
        self._limits = {n: (limits or {}).get(n, type(p).concurrency) for n, p in providers.items()}
        bad = [n for n, v in self._limits.items() if v < 1]
        if bad:
            raise ConfigurationError(f"limits must be at least 1 for {', '.join(bad)}")
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) \
                or max_response_bytes < 1:
            raise ConfigurationError("max_response_bytes must be a positive integer")
        self._max_response_bytes = max_response_bytes
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._timeouts = MappingProxyType(self._timeout.as_dict())
        self._longest_timeout = max(math.inf if t is None else t for t in self._timeouts.values())
        self._transport = transport
        self._sleep: SleepT = self._default_sleep() if sleep is None else sleep
        self._http: dict[str, HttpT] = {}
        self._http_lock = threading.Lock()

    @classmethod
    def from_env(
        cls: Callable[Concatenate[Mapping[str, Any] | None, P], ClientT],
        environ: Mapping[str, str] | None = None,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> ClientT:
        """Configure every installed provider that has ``ORDERSTATUS_<PROVIDER>_*`` variables
        (misspelt ones refused: :func:`~orderstatus.settings.settings_from_environ`).

        Takes the constructor's keyword arguments (``registry`` also says which providers are
        installed); returns an instance of the class it is called on.
        """
        sealed = None if environ is None else Sealed(environ)  # as __init__ seals settings
        del environ
        given = kwargs.get("registry")
        registry = given if isinstance(given, Registry) else default_registry()
        return cls(settings_from_environ(registry, sealed), *args, **kwargs)

    @property
    def providers(self) -> tuple[str, ...]:
        """Configured providers, sorted."""
        return tuple(self._ops.providers)

    def provider(self, name: str) -> Provider:
        """The configured provider object ``name`` (its tables, rules and capabilities)."""
        return self._ops.provider(name)

    def webhook_order_id(
        self, provider: str, *, body: bytes | str, headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | str | None = None,
    ) -> str:
        """Only the order id a notification is about (no request)."""
        with error_boundary(self._ops.exchange.context):
            return self._ops.webhook_order_id(provider, body, headers, query)

    # -- sending ----------------------------------------------------------------------------

    @staticmethod
    @abc.abstractmethod
    def _default_sleep() -> SleepT:
        """How this client waits when no ``sleep`` is given."""

    @abc.abstractmethod
    def _open(self, transport: TransportT | None, options: dict[str, Any]) -> HttpT:
        """A new HTTP client for one provider."""

    def _client_for(self, name: str) -> HttpT:
        """The HTTP client of provider ``name``, opened on first use."""
        with self._http_lock:
            http = self._http.get(name)
            if http is None:
                http = self._http[name] = self._open(self._transport_for(name),
                                                     self._http_options(name))
            return http

    def _transport_for(self, name: str) -> TransportT | None:
        if isinstance(self._transport, Mapping):
            return self._transport.get(name)
        return self._transport

    def _http_options(self, name: str) -> dict[str, Any]:
        provider = self._ops.providers[name]
        limit = self._limits[name]
        return {
            "auth": provider.auth(),
            "timeout": self._timeout,
            "limits": httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            "follow_redirects": False,
        }

    @contextlib.contextmanager
    def _attempt(self, effect: SendRequest) -> Iterator[Callable[[Reply], Reply]]:
        """Around the sending of one attempt, sync or async: its deadline, its error context
        and its trace; gives what to pass the attempt's reply through (the trace hears how it
        ended) on its way out. The reply is never kept in a local (it carries the request's
        URL, secret and all)."""
        deadline = DEADLINE.set(time.monotonic() + effect.budget)
        try:
            with error_context(effect.context), sending(effect.trace) as aside:
                if aside is None:
                    yield _unchanged
                else:
                    yield functools.partial(_ended, aside)
        finally:
            DEADLINE.reset(deadline)

    def _prepare(self, send: SendRequest) -> httpx.Request:
        """Give a provider-built request the client's headers, and timeouts within the budget
        (the same for most requests: built once)."""
        request = send.request
        for name, value in _DEFAULT_HEADERS.items():
            request.headers.setdefault(name, value)
        budget = send.budget
        timeouts: Mapping[str, float | None] = self._timeouts
        if budget < self._longest_timeout:
            timeouts = {phase: budget if limit is None or limit > budget else limit
                        for phase, limit in timeouts.items()}
        request.extensions["timeout"] = timeouts
        return request

    def _bound(self, response: httpx.Response) -> None:
        """Every answer's body decodes within the size cap and ends by the deadline."""
        bounded(response, self._max_response_bytes)

    def __repr__(self) -> str:
        ops = getattr(self, "_ops", None)  # an error tracker may show one half built
        return f"<{type(self).__name__} providers={list(ops.providers) if ops else []}>"


def _unchanged(reply: Reply) -> Reply:
    return reply


def _ended(aside: Aside, reply: Reply) -> Reply:
    """``reply``, once ``aside`` heard that its attempt ended in it."""
    aside.end(reply)
    return reply


def _secrets(providers: Mapping[str, Provider]) -> list[str]:
    return [s for p in providers.values() for s in p.secrets()]


def _first_done(pending: set[Future[R]]) -> tuple[set[Future[R]], set[Future[R]]]:
    """``(done, pending)`` once one of ``pending`` is done, waited for in slices of
    :data:`_WAKE`: a Ctrl-C landing just before a wait blocks is noticed only when the wait
    returns (CPython), so it stops the caller within a slice, not when a fetch ends."""
    from concurrent.futures import FIRST_COMPLETED, wait

    while True:
        done, pending = wait(pending, timeout=_WAKE, return_when=FIRST_COMPLETED)
        if done:
            return done, pending


_WAKE = 0.1
"""Seconds a sync ``fetch_many`` waits for a result before it looks for a Ctrl-C again."""
SyncSleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]


class Client(_BaseClient[httpx.BaseTransport, SyncSleep, httpx.Client]):
    """The synchronous client. Use it as a context manager, or call :meth:`close`."""

    @staticmethod
    def _default_sleep() -> SyncSleep:
        return pause

    def _open(self, transport: httpx.BaseTransport | None, options: dict[str, Any]
              ) -> httpx.Client:
        if transport is None:
            transport = network_transport(options["limits"], asynchronous=False)
        hooks: dict[str, list[Callable[..., Any]]] = {
            "request": [request_hook], "response": [self._bound, response_hook]}
        return httpx.Client(transport=transport, event_hooks=hooks, **options)

    def _run(self, op: Op[R]) -> R:
        reply: Reply = None
        with error_boundary(self._ops.exchange.context):
            while True:
                try:
                    effect = op.send(reply)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if isinstance(effect, SendRequest):
                    reply = self._send(effect)
                else:
                    assert isinstance(effect, Sleep)
                    self._sleep(effect.seconds)
                    reply = None

    def _send(self, effect: SendRequest) -> Reply:
        """Send one request and receive its answer, or the error that came instead; the
        attempt is over by the end of its budget."""
        with self._attempt(effect) as ended:
            try:
                return ended(self._client_for(effect.provider).send(self._prepare(effect)))
            except (httpx.HTTPError, OrderStatusError) as err:
                return ended(err)

    def fetch(self, provider: str, order_id: str, *, strict: bool | None = None) -> OrderStatus:
        """Fetch one order's status."""
        return self._run(self._ops.fetch(provider, order_id, strict))

    def fetch_many(
        self, refs: Iterable[OrderRef], *, concurrency: int = 32, strict: bool | None = None
    ) -> Iterator[FetchResult]:
        """Fetch many orders, yielding each result as it completes.

        Never raises for one order: a failed one yields a :class:`FetchFailure`. At most
        ``concurrency`` requests run at once, and no provider gets more than its limit.
        """
        if concurrency < 1:
            raise ConfigurationError("concurrency must be at least 1")
        refs = checked_refs(refs)
        gates = {n: threading.BoundedSemaphore(v) for n, v in self._limits.items()}
        stop = threading.Event()

        def one(ref: OrderRef) -> FetchResult:
            CANCEL.set(stop)  # this worker thread's requests end when the caller stops
            name, order_id = ref
            gate = gates.get(name) if isinstance(name, str) else None
            try:
                if gate is None:
                    return self.fetch(name, order_id, strict=strict)
                with gate:
                    return self.fetch(name, order_id, strict=strict)
            except OrderStatusError as err:
                return FetchFailure(str(name), str(order_id), err)

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="orderstatus") as pool:
            pending: set[Future[FetchResult]] = set()
            try:
                for ref in refs:
                    pending.add(pool.submit(one, ref))
                    if len(pending) >= concurrency:
                        done, pending = _first_done(pending)
                        yield from (f.result() for f in done)
                while pending:
                    done, pending = _first_done(pending)
                    yield from (f.result() for f in done)
            finally:  # the caller stopped early (Ctrl-C, break): end the fetches in flight
                stop.set()
                for future in pending:
                    future.cancel()

    def update(
        self, provider: str, order_id: str, target: OrderState | str, *,
        current: OrderStatus | None = None, confirm: bool = True, strict: bool | None = None,
        dry_run: bool = False,
    ) -> OrderStatus:
        """Move an order to ``target``, checking the provider's rules before any request.

        Returns the re-fetched status (``confirm=True``), or the status the provider was told.
        With ``dry_run=True`` only the rules are checked: the current status is returned (or
        :class:`TransitionNotAllowedError` raised) and no update is sent.
        """
        return self._run(
            self._ops.update(provider, order_id, target, current=current, confirm=confirm,
                             strict=strict, dry_run=dry_run)
        )

    def handle_webhook(
        self, provider: str, *, body: bytes | str, headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | str | None = None, strict: bool | None = None,
    ) -> OrderStatus:
        """Take the order id from a notification and fetch its real status."""
        return self._run(self._ops.webhook(provider, body, headers, query, strict))

    def feed(self, provider: str, *, since: str | None = None,
             strict: bool | None = None) -> FeedPage:
        """Read one page of the provider's change feed from cursor ``since``."""
        return self._run(self._ops.feed(provider, since, strict))

    def send(
        self, provider: str, request: httpx.Request, *, order_id: str | None = None
    ) -> httpx.Response:
        """Send a request built by the provider object (``client.provider(name).build_…``).

        It goes out as every call's requests do (the provider's auth, the client's headers,
        timeouts and retries) and its answer is checked the same way: a 2xx response is
        returned, anything else raises the error it stands for. No rule is checked, so this
        is how a test asks a sandbox whether it enforces a rule itself. GET, HEAD and OPTIONS
        are retried like fetches; a lost answer to another method raises
        :class:`OutcomeUnknownError`.
        """
        return self._run(self._ops.send(provider, request, order_id=order_id))

    def close(self) -> None:
        """Close every connection."""
        with self._http_lock:
            for http in self._http.values():
                http.close()
            self._http.clear()

    def __enter__(self: ClientT) -> ClientT:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_BaseClient[httpx.AsyncBaseTransport, AsyncSleep, httpx.AsyncClient]):
    """The asynchronous client: :class:`Client`'s methods, awaited.

    It belongs to one event loop at a time: the one it first ran in, until :meth:`aclose`.
    """

    _loop: Any = None
    """The event loop the open connections belong to."""

    @staticmethod
    def _default_sleep() -> AsyncSleep:
        import asyncio  # imported on first use: ``import orderstatus`` stays light

        return asyncio.sleep

    def _open(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]
              ) -> httpx.AsyncClient:
        if transport is None:
            transport = network_transport(options["limits"], asynchronous=True)

        async def requested(request: httpx.Request) -> None:
            request_hook(request)

        async def answered(response: httpx.Response) -> None:
            self._bound(response)
            response_hook(response)

        hooks: dict[str, list[Callable[..., Any]]] = {
            "request": [requested], "response": [answered]}
        return httpx.AsyncClient(transport=transport, event_hooks=hooks, **options)

    async def _run(self, op: Op[R]) -> R:
        self._check_loop()
        reply: Reply = None
        with error_boundary(self._ops.exchange.context):  # this task's context only
            while True:
                try:
                    effect = op.send(reply)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if isinstance(effect, SendRequest):
                    reply = await self._send(effect)
                else:
                    assert isinstance(effect, Sleep)
                    await self._sleep(effect.seconds)
                    reply = None

    def _check_loop(self) -> None:
        """Bind the client to the running event loop; refuse another loop while the first
        still runs with connections open (they belong to it) with :class:`UsageError`. Once
        that loop is closed (``asyncio.run`` returned), its connections are closed at once
        (their sockets: the loop that could close them properly is gone) and dropped."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._loop is not None and self._http:
            if not self._loop.is_closed():
                raise UsageError(
                    "this AsyncClient is in use by another event loop: create one client "
                    "per event loop (or aclose() it before using it from another)"
                )
            for http in self._http.values():
                release_abandoned(http)
            self._http.clear()
        self._loop = loop

    async def _send(self, effect: SendRequest) -> Reply:
        """Send one request and receive its answer, or the error that came instead; the
        attempt is over by the end of its budget."""
        with self._attempt(effect) as ended:
            try:
                return ended(await self._client_for(effect.provider).send(self._prepare(effect)))
            except (httpx.HTTPError, OrderStatusError) as err:
                return ended(err)

    async def fetch(
        self, provider: str, order_id: str, *, strict: bool | None = None
    ) -> OrderStatus:
        """Fetch one order's status."""
        return await self._run(self._ops.fetch(provider, order_id, strict))

    async def fetch_many(
        self, refs: Iterable[OrderRef], *, concurrency: int = 32, strict: bool | None = None
    ) -> AsyncIterator[FetchResult]:
        """Fetch many orders, yielding each as it completes (see :meth:`Client.fetch_many`)."""
        if concurrency < 1:
            raise ConfigurationError("concurrency must be at least 1")
        refs = checked_refs(refs)
        import asyncio

        gates = {n: asyncio.Semaphore(v) for n, v in self._limits.items()}

        async def one(ref: OrderRef) -> FetchResult:
            name, order_id = ref
            gate = gates.get(name) if isinstance(name, str) else None
            try:
                if gate is None:
                    return await self.fetch(name, order_id, strict=strict)
                async with gate:
                    return await self.fetch(name, order_id, strict=strict)
            except OrderStatusError as err:
                return FetchFailure(str(name), str(order_id), err)

        pending: set[asyncio.Task[FetchResult]] = set()
        try:
            for ref in refs:
                pending.add(asyncio.ensure_future(one(ref)))
                if len(pending) >= concurrency:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        yield task.result()
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    yield task.result()
        finally:  # the consumer stopped early: stop the fetches still in flight, and wait
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def update(
        self, provider: str, order_id: str, target: OrderState | str, *,
        current: OrderStatus | None = None, confirm: bool = True, strict: bool | None = None,
        dry_run: bool = False,
    ) -> OrderStatus:
        """Move an order to ``target`` (see :meth:`Client.update`)."""
        return await self._run(
            self._ops.update(provider, order_id, target, current=current, confirm=confirm,
                             strict=strict, dry_run=dry_run)
        )

    async def handle_webhook(
        self, provider: str, *, body: bytes | str, headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | str | None = None, strict: bool | None = None,
    ) -> OrderStatus:
        """Take the order id from a notification and fetch its real status."""
        return await self._run(self._ops.webhook(provider, body, headers, query, strict))

    async def feed(
        self, provider: str, *, since: str | None = None, strict: bool | None = None
    ) -> FeedPage:
        """Read one page of the provider's change feed from cursor ``since``."""
        return await self._run(self._ops.feed(provider, since, strict))

    async def send(
        self, provider: str, request: httpx.Request, *, order_id: str | None = None
    ) -> httpx.Response:
        """Send a request built by the provider object (see :meth:`Client.send`)."""
        return await self._run(self._ops.send(provider, request, order_id=order_id))

    async def aclose(self) -> None:
        """Close every connection (in the event loop they belong to)."""
        self._check_loop()
        for http in self._http.values():
            await http.aclose()
        self._http.clear()
        self._loop = None

    close = aclose

    async def __aenter__(self: ClientT) -> ClientT:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
