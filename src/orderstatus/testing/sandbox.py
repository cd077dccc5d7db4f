"""The base of every provider sandbox: an in-process fake of a provider's API.

A sandbox is a function from :class:`httpx.Request` to :class:`httpx.Response`
(:meth:`Sandbox.handle`), so it runs in-process through :meth:`Sandbox.transport` (sync and
async) and over real HTTP through :meth:`Sandbox.asgi` and :func:`orderstatus.testing.asgi.serve`.
The base brings what every sandbox needs: a controllable clock, fault injection, webhook
delivery on the provider's retry schedule, a request log, and a JSON control API under
``/_sandbox/``. A subclass brings the provider's endpoints, orders and rules.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs
import httpx

from .asgi import FORWARDED_PREFIX, Abort, ASGIApp, asgi_app

__all__ = [
    "CONTROL_PREFIX",
    "Delivery",
    "Example",
    "Fault",
    "FaultKind",
    "Faults",
    "Sandbox",
    "SandboxClock",
    "WebhookOutbox",
]

CONTROL_PREFIX = "/_sandbox/"
FaultKind = Literal["status", "rate_limit", "slow", "timeout", "reset", "malformed", "html",
                    "not_json"]
FAULT_KINDS: tuple[str, ...] = ("status", "rate_limit", "slow", "timeout", "reset", "malformed",
                                "html", "not_json")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class SandboxClock:
    """The sandbox's notion of now, which :meth:`advance` moves forward on demand.

    By default it is this machine's clock plus every advance so far, so the times a sandbox
    writes (a feed entry's date, say) compare with the clients' ``observed_at`` as a real
    provider's do: a change made after a fetch was sent is dated after it. With ``start``, it
    is frozen at ``start`` and moves only when advanced, for tests that check exact times (its
    dates then do not compare with ``observed_at``).
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._start = start
        self._offset = dt.timedelta()
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        base = self._start if self._start is not None else dt.datetime.now(dt.timezone.utc)
        with self._lock:
            return base + self._offset

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock forward and return the new now."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += dt.timedelta(seconds=seconds)
        return self.now()


@attrs.define
class Fault:
    """One injected fault, applied to the next ``times`` matching requests."""

    kind: FaultKind
    times: int = 1
    status: int = 503
    """HTTP status for ``status`` faults."""
    retry_after: float | None = None
    """``Retry-After`` seconds for ``rate_limit`` faults (``None``: header left out)."""
    delay: float = 0.0
    """Seconds to stall for ``slow`` (then answer) and ``timeout`` (then drop)."""
    path: str | None = None
    """Only requests whose path contains this text; ``None``: every provider request."""
    method: str | None = None
    """Only requests with this method; ``None``: any."""

    def matches(self, request: httpx.Request) -> bool:
        return (self.path is None or self.path in request.url.path) and (
            self.method is None or self.method == request.method
        )


class Faults:
    """Fault injection: queued faults first, then an optional random failure rate."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._rate = 0.0
        self._kinds: tuple[Fault, ...] = ()
        self._random = random.Random(0)
        self._lock = threading.Lock()
        self.injected = 0
        """Faults applied so far."""

    def inject(self, kind: FaultKind, **options: Any) -> Fault:
        """Queue a fault: ``inject("status", status=502, times=2)``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; kinds: {', '.join(FAULT_KINDS)}")
        fault = Fault(kind, **options)
        with self._lock:
            self._queue.append(fault)
        return fault

    @contextlib.contextmanager
    def during(self, kind: FaultKind, **options: Any) -> Iterator[Fault]:
        """Queue a fault for the ``with`` block only: what is left of it is dropped on leaving.

        ``with sandbox.faults.during("status", status=500, times=10): client.fetch(...)``
        """
        fault = self.inject(kind, **options)
        try:
            yield fault
        finally:
            with self._lock:
                self._queue = [queued for queued in self._queue if queued is not fault]

    def chaos(self, rate: float, faults: Sequence[Fault], *, seed: int = 0) -> None:
        """Fail a ``rate`` fraction of requests with faults drawn from ``faults``."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._rate, self._kinds, self._random = rate, tuple(faults), random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._rate, self._kinds = 0.0, ()

    def take(self, request: httpx.Request) -> Fault | None:
        """The fault to apply to ``request``, if any."""
        with self._lock:
            for fault in self._queue:
                if fault.matches(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._queue.remove(fault)
                    self.injected += 1
                    return fault
            if self._kinds and self._random.random() < self._rate:
                self.injected += 1
                return self._random.choice(self._kinds)
        return None


@attrs.define
class Delivery:
    """One webhook notification and every attempt to deliver it."""

    url: str
    body: bytes
    content_type: str
    created_at: dt.datetime
    next_at: dt.datetime | None
    attempts: list[tuple[dt.datetime, int | None]] = attrs.field(factory=list)
    """``(when, HTTP status or None when unreachable)`` per attempt."""
    delivered: bool = False

    @property
    def given_up(self) -> bool:
        return not self.delivered and self.next_at is None


class WebhookOutbox:
    """Webhook notifications waiting to be delivered on a retry schedule.

    ``schedule`` holds the waits after each failed attempt: Print API's ``(120, 300, 3600 * 7)``
    means 10 calls in all. Deliveries happen only when :meth:`deliver_due` is called.
    """

    def __init__(
        self, clock: SandboxClock, schedule: Sequence[float], max_attempts: int = 1
    ) -> None:
        self.clock = clock
        self.schedule = tuple(schedule)
        self.max_attempts = max_attempts
        """Calls per notification before the provider gives up."""
        self.url: str | None = None
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    def enqueue(self, body: bytes, content_type: str, *, suffix: str = "") -> Delivery | None:
        """Queue a notification for the subscribed URL (``None`` when nobody subscribed)."""
        if self.url is None:
            return None
        now = self.clock.now()
        delivery = Delivery(self.url + suffix, body, content_type, now, now)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def due(self) -> list[Delivery]:
        now = self.clock.now()
        with self._lock:
            return [d for d in self.deliveries if d.next_at is not None and d.next_at <= now]

    def deliver_due(self, post: Callable[[Delivery], int | None]) -> int:
        """Attempt every due delivery with ``post``; return how many attempts were made."""
        made = 0
        for delivery in self.due():
            status = post(delivery)
            made += 1
            now = self.clock.now()
            with self._lock:
                delivery.attempts.append((now, status))
                if status == 200:
                    delivery.delivered, delivery.next_at = True, None
                else:
                    failures = len(delivery.attempts)
                    if failures >= self.max_attempts or not self.schedule:
                        delivery.next_at = None
                    else:
                        wait = self.schedule[min(failures, len(self.schedule)) - 1]
                        delivery.next_at = now + dt.timedelta(seconds=wait)
        return made


_ORDER_STATUS = re.compile(r"^orders/(?P<id>[^/]+)/status$")


@attrs.frozen
class Example:
    """An example order a sandbox seeds (:meth:`Sandbox.seed_examples`)."""

    order_id: str
    status: str
    """The native status it shows."""
    note: str = ""
    """What else it shows, in a few words (``2 items``, ``payment Successful``)."""

    def __str__(self) -> str:
        return f"{self.order_id} ({self.status}{', ' + self.note if self.note else ''})"


class Sandbox(abc.ABC):
    """Base of a provider sandbox. Subclasses implement the provider's side."""

    provider: ClassVar[str]
    """Name of the provider this sandbox fakes."""
    webhook_schedule: ClassVar[tuple[float, ...]] = ()
    """Seconds to wait after each failed webhook call before the next one."""
    webhook_attempts: ClassVar[int] = 1
    """Calls per notification before giving up."""

    def __init__(self, *, clock: SandboxClock | None = None) -> None:
        self.clock = clock or SandboxClock()
        self.faults = Faults()
        self.webhooks = WebhookOutbox(self.clock, self.webhook_schedule, self.webhook_attempts)
        self.requests: list[tuple[str, str]] = []
        """``(method, path)`` of every provider request received (control calls excluded)."""
        self.lock = threading.RLock()
        self._counter = 0
        self._delivering = threading.Lock()

    # -- what a subclass implements ---------------------------------------------------------

    @abc.abstractmethod
    def settings(self, base_url: str) -> dict[str, Any]:
        """Client settings that work against this sandbox served at ``base_url``."""

    @abc.abstractmethod
    def route(self, request: httpx.Request) -> httpx.Response:
        """Answer one provider API request (faults were already applied)."""

    @abc.abstractmethod
    def create_order(self, *, items: int = 1, **options: Any) -> str:
        """Create an order and return its id."""

    @abc.abstractmethod
    def set_status(self, order_id: str, status: str, *, items: Iterable[int] | None = None,
                   **details: Any) -> None:
        """Move an order (or only the items at the given positions) to native ``status``.

        Raises ``KeyError`` for an unknown order and ``ValueError`` for an unknown status.
        """

    def webhook_notification(self, order_id: str) -> tuple[bytes, str, str] | None:
        """``(body, content type, url suffix)`` of a notification about ``order_id``."""
        return None

    def on_clock(self) -> None:
        """Called after the clock moved: expire what time expires."""

    def seed_examples(self) -> list[Example]:
        """Create the example orders the provider's documentation uses, so that a reader
        trying them against ``orderstatus sandbox`` finds them; return them. Called once, on
        a fresh sandbox; the default creates none."""
        return []

    @property
    def statuses(self) -> tuple[str, ...]:
        """Native statuses :meth:`set_status` accepts."""
        from orderstatus.plugins import default_registry

        return tuple(default_registry().provider(self.provider).native_statuses)

    # -- helpers for subclasses -------------------------------------------------------------

    def new_id(self, prefix: str = "") -> str:
        """A fresh order id."""
        with self.lock:
            self._counter += 1
            return f"{prefix}{self._counter}"

    def notify(self, order_id: str) -> None:
        """Queue a webhook notification about ``order_id`` (if someone subscribed)."""
        note = self.webhook_notification(order_id)
        if note is not None:
            body, content_type, suffix = note
            self.webhooks.enqueue(body, content_type, suffix=suffix)

    @staticmethod
    def json_response(status: int, data: Any, headers: Mapping[str, str] | None = None
                      ) -> httpx.Response:
        return httpx.Response(status, json=data, headers=headers)

    @staticmethod
    def public_url(request: httpx.Request, path: str) -> httpx.URL:
        """The URL, as this sandbox's clients reach it, of ``path`` (a path as ``route``
        sees them): served under a prefix that was stripped (``orderstatus sandbox`` serves
        each sandbox under ``/{provider}/``, as a proxy would), the prefix named in
        ``X-Forwarded-Prefix`` is put back. For links the sandbox writes into answers."""
        prefix = request.headers.get(FORWARDED_PREFIX, "").rstrip("/")
        return request.url.copy_with(path=prefix + path, query=None)

    # -- time and webhooks ------------------------------------------------------------------

    def advance(self, seconds: float, *, deliver: bool = True) -> int:
        """Move the clock, let time expire things, and deliver due webhooks (attempts made)."""
        self.clock.advance(seconds)
        with self.lock:
            self.on_clock()
        return self.deliver_webhooks() if deliver else 0

    def subscribe(self, url: str | None) -> None:
        """Send webhook notifications to ``url`` (``None`` stops them)."""
        self.webhooks.url = url

    def deliver_webhooks(self, *, timeout: float = 10.0) -> int:
        """POST every due notification over real HTTP; return how many calls were made.

        One delivery round at a time: two at once (a served sandbox's own ticks and a
        control call) would send a notification twice.
        """
        if not self.webhooks.due():
            return 0  # building an HTTP client costs tens of ms: not for every clock tick
        with self._delivering, httpx.Client(timeout=timeout) as http:

            def post(delivery: Delivery) -> int | None:
                try:
                    response = http.post(
                        delivery.url, content=delivery.body,
                        headers={"content-type": delivery.content_type},
                    )
                except httpx.HTTPError:
                    return None
                return response.status_code

            return self.webhooks.deliver_due(post)

    # -- serving ----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer any request: control API, injected fault, or the provider's endpoint."""
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return self._control(request)
        with self.lock:
            self.requests.append((request.method, path))
        fault = self.faults.take(request)
        if fault is not None:
            shaped = self._apply(fault, request)
            if shaped is not None:
                return shaped
        with self.lock:
            return self.route(request)

    def _apply(self, fault: Fault, request: httpx.Request) -> httpx.Response | None:
        if fault.kind == "status":
            return self.json_response(fault.status, {"error": "injected failure"})
        if fault.kind == "rate_limit":
            headers = {} if fault.retry_after is None else {"retry-after": f"{fault.retry_after:g}"}
            return self.json_response(429, {"error": "too many requests"}, headers)
        if fault.kind in ("timeout", "reset"):
            raise Abort(fault.delay if fault.kind == "timeout" else 0.0)
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return None
        with self.lock:
            real = self.route(request)
        if fault.kind == "malformed":
            body = real.content[: max(1, len(real.content) // 2)]
            return httpx.Response(real.status_code, content=body, headers=real.headers)
        if fault.kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return httpx.Response(502, content=page, headers={"content-type": "text/html"})
        return httpx.Response(200, content=b"OK", headers={"content-type": "text/plain"})

    def transport(self) -> httpx.MockTransport:
        """An in-process transport (sync and async) answering through :meth:`handle`.

        Dropped connections surface as :class:`httpx.ReadTimeout` or :class:`httpx.ReadError`.
        """

        def handler(request: httpx.Request) -> httpx.Response:
            request.read()
            try:
                return self.handle(request)
            except Abort as abort:
                if abort.delay:
                    raise httpx.ReadTimeout("sandbox stalled", request=request) from None
                raise httpx.ReadError("sandbox dropped the connection", request=request) from None

        return httpx.MockTransport(handler)

    def asgi(self) -> ASGIApp:
        """This sandbox as an ASGI app, to serve on loopback."""
        return asgi_app(self.handle)

    # -- control API ------------------------------------------------------------------------

    def _control(self, request: httpx.Request) -> httpx.Response:
        action = request.url.path[len(CONTROL_PREFIX):].strip("/")
        try:
            data = json.loads(request.content or b"{}")
            if not isinstance(data, dict):
                raise ValueError("the control body must be a json object")
            return self._control_action(request.method, action, data)
        except KeyError as err:
            return self.json_response(404, {"error": f"not found: {err}"})
        except (ValueError, TypeError) as err:
            return self.json_response(400, {"error": str(err)})

    def _control_action(self, method: str, action: str, data: dict[str, Any]) -> httpx.Response:
        if (method, action) == ("POST", "orders"):
            return self.json_response(201, {"id": self.create_order(**data)})
        match = _ORDER_STATUS.match(action)
        if method == "POST" and match:
            status = data.pop("status")
            self.set_status(match["id"], status, **data)
            return self.json_response(200, {"id": match["id"], "status": status})
        if (method, action) == ("POST", "faults"):
            fault = self.faults.inject(data.pop("kind"), **data)
            return self.json_response(201, attrs.asdict(fault))
        if (method, action) == ("DELETE", "faults"):
            self.faults.clear()
            return self.json_response(200, {})
        if (method, action) == ("POST", "clock"):
            attempts = self.advance(float(data.get("advance", 0)))
            return self.json_response(
                200, {"now": self.clock.now().isoformat(), "webhook_calls": attempts}
            )
        if (method, action) == ("POST", "webhooks"):
            self.subscribe(data.get("url"))
            return self.json_response(200, {"url": self.webhooks.url})
        if (method, action) == ("GET", "webhooks"):
            return self.json_response(200, [
                {"url": d.url, "delivered": d.delivered, "given_up": d.given_up,
                 "attempts": [[t.isoformat(), s] for t, s in d.attempts]}
                for d in self.webhooks.deliveries
            ])
        if (method, action) == ("GET", "requests"):
            return self.json_response(200, [list(r) for r in self.requests])
        raise KeyError(f"{method} {CONTROL_PREFIX}{action}")
