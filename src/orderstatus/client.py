"""``Client`` and ``AsyncClient``: the only place that sends HTTP.

Both run the same operations (:mod:`orderstatus._operations`, over the HTTP exchange of
:mod:`orderstatus._exchange`); they differ only in how a request is sent and how a wait is slept.
"""

from __future__ import annotations

import abc
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

import httpx

from ._context import ErrorContext, error_context
from ._exchange import Exchange, Op, Reply, SendRequest, Sleep, error_boundary
from ._operations import Operations
from ._redaction import Redactor, guard_loggers
from ._version import __version__
from .errors import ConfigurationError, OrderStatusError
from .lifecycle import OrderState
from .mapping import StatusMapper
from .models import FeedPage, FetchFailure, OrderStatus
from .plugins import Registry, default_registry
from .provider import Provider
from .retry import RetryPolicy
from .settings import secret_values, settings_from_environ, settings_from_mapping

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
            sleep: how to wait between attempts (default: :func:`time.sleep`, or
                :func:`asyncio.sleep` for the async client); tests pass a recorder.
        """
        self.registry = registry or default_registry()
        providers: dict[str, Provider] = {}
        for name, values in sorted((settings or {}).items()):
            cls = self.registry.provider(name)
            known = Redactor()  # e.g. a base_url quoting a misplaced secret is refused clean
            with error_boundary(ErrorContext(clean=known)):
                configured = settings_from_mapping(name, cls.settings_class, values)
                known.add(secret_values(configured))
                providers[name] = cls(configured)
        secrets = [s for p in providers.values() for s in p.secrets()]
        guard_loggers(secrets)
        override = self.registry.map_override if self.registry.has_map_overrides else None
        self._ops = Operations(
            providers=providers,
            mappers={n: StatusMapper(type(p), override) for n, p in providers.items()},
            exchange=Exchange(retry=retry or RetryPolicy(), redact=Redactor(secrets)),
            strict=strict,
        )
        self._limits = {n: (limits or {}).get(n, type(p).concurrency) for n, p in providers.items()}
        bad = [n for n, v in self._limits.items() if v < 1]
        if bad:
            raise ConfigurationError(f"limits must be at least 1 for {', '.join(bad)}")
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._phases = self._timeout.as_dict()
        limits_set = [t for t in self._phases.values() if t is not None]
        self._longest_phase = max(limits_set) if len(limits_set) == len(self._phases) else None
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
        environ = os.environ if environ is None else environ
        given = kwargs.get("registry")
        registry = given if isinstance(given, Registry) else default_registry()
        return cls(settings_from_environ(registry, environ), *args, **kwargs)

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

    def _prepare(self, send: SendRequest) -> httpx.Request:
        """Give a provider-built request the client's headers, and timeouts within the budget."""
        request = send.request
        for name, value in _DEFAULT_HEADERS.items():
            request.headers.setdefault(name, value)
        budget, longest = send.budget, self._longest_phase
        if budget is None or (longest is not None and budget >= longest):
            request.extensions["timeout"] = self._phases  # the usual case: no phase is cut
        else:
            request.extensions["timeout"] = {
                phase: budget if limit is None else min(limit, budget)
                for phase, limit in self._phases.items()
            }
        return request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} providers={list(self.providers)}>"


SyncSleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]


class Client(_BaseClient[httpx.BaseTransport, SyncSleep, httpx.Client]):
    """The synchronous client. Use it as a context manager, or call :meth:`close`."""

    @staticmethod
    def _default_sleep() -> SyncSleep:
        return time.sleep

    def _open(self, transport: httpx.BaseTransport | None, options: dict[str, Any]
              ) -> httpx.Client:
        return httpx.Client(transport=transport, **options)

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
        """Send one request and receive its answer, or the error that came instead."""
        with error_context(effect.context):
            try:
                return self._client_for(effect.provider).send(self._prepare(effect))
            except (httpx.HTTPError, OrderStatusError) as err:
                return err

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
        gates = {n: threading.BoundedSemaphore(v) for n, v in self._limits.items()}

        def one(ref: OrderRef) -> FetchResult:
            name, order_id = ref
            gate = gates.get(name) if isinstance(name, str) else None
            try:
                if gate is None:
                    return self.fetch(name, order_id, strict=strict)
                with gate:
                    return self.fetch(name, order_id, strict=strict)
            except OrderStatusError as err:
                return FetchFailure(str(name), str(order_id), err)

        refs = iter(refs)
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="orderstatus") as pool:
            pending: set[Future[FetchResult]] = set()
            for ref in refs:
                pending.add(pool.submit(one, ref))
                if len(pending) >= concurrency:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)

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
    """The asynchronous client: :class:`Client`'s methods, awaited."""

    @staticmethod
    def _default_sleep() -> AsyncSleep:
        import asyncio  # imported on first use: ``import orderstatus`` stays light

        return asyncio.sleep

    def _open(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]
              ) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, **options)

    async def _run(self, op: Op[R]) -> R:
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

    async def _send(self, effect: SendRequest) -> Reply:
        """Send one request and receive its answer, or the error that came instead."""
        with error_context(effect.context):
            try:
                return await self._client_for(effect.provider).send(self._prepare(effect))
            except (httpx.HTTPError, OrderStatusError) as err:
                return err

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
        """Close every connection."""
        for http in self._http.values():
            await http.aclose()
        self._http.clear()

    close = aclose

    async def __aenter__(self: ClientT) -> ClientT:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
