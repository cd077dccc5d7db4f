"""The Print API provider: sans-I/O requests and parsers for printapi.nl's REST API (v2)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import cattrs
import httpx

from orderstatus import (
    Capabilities,
    NativeStatus,
    ParsedItem,
    ParsedOrder,
    PaymentState,
    Provider,
    Tracking,
)
from orderstatus.errors import ResponseFormatError

from . import payloads, statuses
from .auth import ClientCredentialsAuth
from .feed import FEED_START, next_cursor
from .settings import BASE_URLS, PrintApiSettings
from .webhook import webhook_order_id

__all__ = ["PrintApiProvider"]


class PrintApiProvider(Provider):
    """Print API (printapi.nl): one status per order, an optional payment, no status update."""

    name = "printapi"
    title = "Print API"
    settings_class = PrintApiSettings
    default_base_url = BASE_URLS["test"]
    native_statuses: ClassVar[Mapping[str, NativeStatus]] = statuses.NATIVE_STATUSES
    payment_statuses: ClassVar[Mapping[str, PaymentState]] = statuses.PAYMENT_STATUSES
    update_rules = None
    capabilities = Capabilities(fetch=True, update=False, webhook=True, feed=True)
    concurrency = 8
    max_order_id_length = 64

    def __init__(self, settings: PrintApiSettings) -> None:
        super().__init__(settings)
        self.settings: PrintApiSettings = settings
        self.clock: Callable[[], float] = time.monotonic
        """Monotonic clock deciding when the cached token is renewed (swap it in tests)."""

    @classmethod
    def native_key(cls, native_status: str) -> str:
        """Match statuses regardless of case and surrounding spaces (``created`` = ``Created``)."""
        return statuses.native_key(native_status)

    @classmethod
    def configure_converter(cls, converter: cattrs.Converter) -> None:
        payloads.configure(converter)

    def auth(self) -> httpx.Auth:
        """A fresh client-credentials auth: one token cache per HTTP client."""
        return ClientCredentialsAuth(
            self.base_url.join("oauth"), self.settings.client_id, self.settings.client_secret,
            provider=self.name, clock=self.clock,
        )

    # -- fetch ------------------------------------------------------------------------------

    def build_fetch(self, order_id: str) -> httpx.Request:
        return httpx.Request("GET", self.url("orders", order_id))

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        """The order's status, payment and tracking; each item shows what stops it, if
        anything (see :func:`.statuses.item_status`). ``dateTime`` is the order's creation
        time, so the observation carries no provider time."""
        data = self._object(order_id, response)
        order = payloads.read_order(data) or self.structure(order_id, data, payloads.Order)
        if order.id != order_id:
            raise ResponseFormatError(
                f"answer is about order {order.id[:64]!r}", provider=self.name, order_id=order_id
            )
        payment = order.checkout.status if order.checkout is not None else None
        items = tuple(
            ParsedItem(item.id, statuses.item_status(
                order.status, payment, item.files.statuses() if item.files else ()
            ))
            for item in order.items
        )
        return ParsedOrder(
            order_id=order_id,
            native_status=None if items else statuses.item_status(order.status, payment, ()),
            items=items,
            native_payment=payment,
            tracking=(Tracking(url=order.trackingUrl),) if order.trackingUrl else (),
            raw=data,
        )

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(
        self, body: bytes, headers: httpx.Headers, query: httpx.QueryParams
    ) -> str:
        """The ``orderId`` of a form-encoded notification; the query string is ignored."""
        return webhook_order_id(body, headers, provider=self.name)

    # -- feed -------------------------------------------------------------------------------

    def build_feed(self, since: str | None) -> httpx.Request:
        """``GET sync/statuses?since=…``, from :data:`.feed.FEED_START` when ``since`` is
        ``None`` (every recorded request carries ``since``)."""
        params = {"since": FEED_START if since is None else since}
        return httpx.Request("GET", self.url("sync", "statuses", params=params))

    def parse_feed(
        self, since: str | None, response: httpx.Response
    ) -> tuple[tuple[ParsedOrder, ...], str | None]:
        """Orders that changed, each dated by its entry, and the cursor to read on from (see
        :func:`.feed.next_cursor`; the answer's ``since`` only echoes the request's)."""
        data = self._object(None, response)
        answer = self.structure(None, data, payloads.FeedAnswer)
        raws: list[Any] = data["results"]
        orders = tuple(
            ParsedOrder(entry.id, native_status=entry.status, provider_time=entry.dateTime,
                        raw=raw)
            for entry, raw in zip(answer.results, raws, strict=True)
        )
        return orders, next_cursor(since, (entry.dateTime for entry in answer.results))

    # -- helpers ----------------------------------------------------------------------------

    def _object(self, order_id: str | None, response: httpx.Response) -> dict[str, Any]:
        data = self.json(order_id, response)
        if not isinstance(data, dict):
            raise ResponseFormatError(
                f"answer is a json {type(data).__name__}, not an object",
                provider=self.name, order_id=order_id, status_code=response.status_code,
            )
        return data
