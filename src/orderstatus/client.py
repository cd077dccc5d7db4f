"""``Client`` and ``AsyncClient``: the only place that sends HTTP.

Both run the same :mod:`~orderstatus.operations`; they differ only in how a request is sent
and how a wait is slept.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._version import __version__
from .errors import ConfigurationError, OrderStatusError
from .lifecycle import OrderState
from .mapping import StatusMapper
from .models import FeedPage, FetchFailure, OrderStatus
from .operations import Op, Operations, Send, Sleep
from .plugins import Registry, default_registry
from .provider import Provider
from .redaction import Redactor, guard_loggers
from .retry import RetryPolicy
from .settings import secret_values, settings_from_env, settings_from_mapping

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

__all__ = ["AsyncClient", "Client", "OrderRef"]

R = TypeVar("R")
T = TypeVar("T")
OrderRef = tuple[str, str]
"""``(provider, order_id)``."""
FetchResult = OrderStatus | FetchFailure
_DEFAULT_HEADERS = {
    "user-agent": f"orderstatus/{__version__} (+https://pypi.org/project/orderstatus/)",
    "accept": "application/json",
}


class _BaseClient(Generic[T]):
    """Configuration shared by both clients."""

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        transport: T | Mapping[str, T] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = 10.0,
        strict: bool = False,
        limits: Mapping[str, int] | None = None,
        registry: Registry | None = None,
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
        """
        self.registry = registry or default_registry()
        providers: dict[str, Provider] = {}
        for name, values in sorted((settings or {}).items()):
            cls = self.registry.provider(name)
            configured = None
            try:
                configured = settings_from_mapping(name, cls.settings_class, values)
                providers[name] = cls(configured)
            except ConfigurationError as err:  # e.g. a base_url quoting a misplaced secret
                err.scrub(Redactor(secret_values(configured) if configured is not None else ()))
                raise err from None
        redactor = Redactor(s for p in providers.values() for s in p.secrets())
        guard_loggers(s for p in providers.values() for s in p.secrets())
        override = self.registry.map_override if self.registry.has_map_overrides else None
        self._ops = Operations(
            providers=providers,
            mappers={n: StatusMapper(type(p), override) for n, p in providers.items()},
            retry=retry or RetryPolicy(),
            redact=redactor,
            strict=strict,
        )
        self._limits = {n: (limits or {}).get(n, type(p).concurrency) for n, p in providers.items()}
        bad = [n for n, v in self._limits.items() if v < 1]
        if bad:
            raise ConfigurationError(f"limits must be at least 1 for {', '.join(bad)}")
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._transport = transport

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Any:
        """Configure every installed provider that has ``ORDERSTATUS_<PROVIDER>_*`` variables."""
        environ = os.environ if environ is None else environ
        registry = kwargs.get("registry") or default_registry()
        settings = {}
        for name in registry.names:
            provider = registry.provider(name)
            found = settings_from_env(name, provider.settings_class, environ)
            if found is not None:
                settings[name] = found
        return cls(settings, **kwargs)

    @property
    def providers(self) -> tuple[str, ...]:
        """Configured providers, sorted."""
        return tuple(self._ops.providers)

    def provider(self, name: str) -> Provider:
        """The configured provider object ``name`` (its tables, rules and capabilities)."""
        return self._ops.provider(name)

    def _transport_for(self, name: str) -> T | None:
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

    def _prepare(self, send: Send) -> httpx.Request:
        """Give a provider-built request the client's headers, and timeouts within the budget."""
        request = send.request
        for name, value in _DEFAULT_HEADERS.items():
            request.headers.setdefault(name, value)
        budget = send.budget
        request.extensions["timeout"] = {
            phase: budget if limit is None else (limit if budget is None else min(limit, budget))
            for phase, limit in self._timeout.as_dict().items()
        }
        return request

    def webhook_order_id(
        self, provider: str, *, body: bytes | str, headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | str | None = None,
    ) -> str:
        """Only the order id a notification is about (no request)."""
        raw = body.encode() if isinstance(body, str) else body
        try:
            return self._ops.parse_webhook(self._ops.provider(provider), raw, headers, query)
        except OrderStatusError as err:
            raise self._scrubbed(err) from None

    def _scrubbed(self, error: OrderStatusError) -> OrderStatusError:
        error.scrub(self._ops.redact)
        return error

    def __repr__(self) -> str:
        return f"<{type(self).__name__} providers={list(self.providers)}>"


class Client(_BaseClient[httpx.BaseTransport]):
    """The synchronous client. Use it as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        self._sleep = sleep
        self._http: dict[str, httpx.Client] = {}
        self._http_lock = threading.Lock()

    def _client_for(self, name: str) -> httpx.Client:
        with self._http_lock:
            http = self._http.get(name)
            if http is None:
                http = httpx.Client(transport=self._transport_for(name), **self._http_options(name))
                self._http[name] = http
            return http

    def _run(self, op: Op[R]) -> R:
        reply: Any = None
        try:
            while True:
                try:
                    effect = op.send(reply)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if isinstance(effect, Send):
                    try:
                        http = self._client_for(effect.provider)
                        reply = http.send(self._prepare(effect))
                    except (httpx.HTTPError, OrderStatusError) as err:
                        reply = err
                else:
                    assert isinstance(effect, Sleep)
                    self._sleep(effect.seconds)
                    reply = None
        except OrderStatusError as err:
            raise self._scrubbed(err) from None

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

    def close(self) -> None:
        """Close every connection."""
        with self._http_lock:
            for http in self._http.values():
                http.close()
            self._http.clear()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_BaseClient[httpx.AsyncBaseTransport]):
    """The asynchronous client: :class:`Client`'s methods, awaited."""

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        if sleep is None:
            import asyncio  # imported on first use: ``import orderstatus`` stays light

            sleep = asyncio.sleep
        self._sleep = sleep
        self._http: dict[str, httpx.AsyncClient] = {}

    def _client_for(self, name: str) -> httpx.AsyncClient:
        http = self._http.get(name)
        if http is None:
            http = httpx.AsyncClient(
                transport=self._transport_for(name), **self._http_options(name)
            )
            self._http[name] = http
        return http

    async def _run(self, op: Op[R]) -> R:
        reply: Any = None
        try:
            while True:
                try:
                    effect = op.send(reply)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if isinstance(effect, Send):
                    try:
                        reply = await self._client_for(effect.provider).send(
                            self._prepare(effect)
                        )
                    except (httpx.HTTPError, OrderStatusError) as err:
                        reply = err
                else:
                    assert isinstance(effect, Sleep)
                    await self._sleep(effect.seconds)
                    reply = None
        except OrderStatusError as err:
            raise self._scrubbed(err) from None

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

    async def aclose(self) -> None:
        """Close every connection."""
        for http in self._http.values():
            await http.aclose()
        self._http.clear()

    close = aclose

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
