"""The Gooten provider: requests to build, answers to read. It never sends anything."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import cattrs
import httpx

from orderstatus import (
    Capabilities,
    NativeStatus,
    ParsedItem,
    ParsedOrder,
    PaymentState,
    Provider,
    QueryAuth,
    Secret,
    UpdateRules,
)
from orderstatus.errors import (
    AuthenticationError,
    InvalidWebhookError,
    OrderNotFoundError,
    ProviderError,
    ResponseFormatError,
    UpdateRejectedError,
)

from . import payload
from .statuses import NATIVE_STATUSES, PAYMENT_STATUSES, UPDATE_RULES, native_key

__all__ = ["GootenProvider", "GootenSettings"]

ORDER_PATH = ("v", "5", "source", "api", "orders")
"""``v/5/source/api/orders/``, as :meth:`Provider.url` segments (with the trailing slash)."""
UPDATE_PATH = "orderstatus"
WEBHOOK_PARAM = "orderid"
KEY_PARAM = "partnerBillingKey"
_NEEDS_KEY = "orderstatus_gooten.partner_billing_key"
"""Request extension: the request is sent with the partner billing key (see ``auth``)."""
_REFUNDS = frozenset(native_key(p) for p in PAYMENT_STATUSES)
"""Item statuses that carry the order's payment (refunds), as :func:`native_key` folds them."""


def _filled(_: Any, attribute: attrs.Attribute[Any], value: str | Secret) -> None:
    text = value.reveal() if isinstance(value, Secret) else value
    if not text.strip():
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen
class GootenSettings:
    """How to reach Gooten. ``from_env`` reads ``ORDERSTATUS_GOOTEN_RECIPE_ID``,
    ``ORDERSTATUS_GOOTEN_PARTNER_BILLING_KEY`` and ``ORDERSTATUS_GOOTEN_BASE_URL``."""

    recipe_id: str = attrs.field(validator=_filled)
    """The RecipeID from the Gooten Admin: a public key sent with every call."""
    partner_billing_key: Secret = attrs.field(converter=Secret, validator=_filled)
    """The Partner Billing Key: private, sent only to change an order's status."""
    base_url: str | None = None
    """Where Gooten lives; default ``https://api.print.io/api/`` (set it for a sandbox)."""


class GootenProvider(Provider):
    """Gooten (api.print.io): status per item, updates under documented rules, webhooks."""

    name = "gooten"
    title = "Gooten"
    settings_class = GootenSettings
    default_base_url = "https://api.print.io/api/"
    native_statuses: ClassVar[Mapping[str, NativeStatus]] = NATIVE_STATUSES
    payment_statuses: ClassVar[Mapping[str, PaymentState]] = PAYMENT_STATUSES
    update_rules: ClassVar[UpdateRules | None] = UPDATE_RULES
    capabilities = Capabilities(fetch=True, update=True, webhook=True, feed=False)

    settings: GootenSettings

    @classmethod
    def native_key(cls, native_status: str) -> str:
        """Case-insensitive, spaces ignored, known misspellings folded (see :mod:`.statuses`)."""
        return native_key(native_status)

    @classmethod
    def configure_converter(cls, converter: cattrs.Converter) -> None:
        """Gooten's PascalCase payloads."""
        payload.configure(converter)

    # -- fetch ------------------------------------------------------------------------------

    def build_fetch(self, order_id: str) -> httpx.Request:
        """``GET {base}v/5/source/api/orders/?id=…&recipeid=…`` (one URL parse)."""
        return httpx.Request("GET", self.url(
            *ORDER_PATH, params={"id": order_id, "recipeid": self.settings.recipe_id},
            trailing_slash=True,
        ))

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        """Read the order's items: each keeps its own status and tracking."""
        data = self.json(order_id, response)
        self._raise_for_body(order_id, response, data)
        if not isinstance(data, dict):
            raise ResponseFormatError(
                f"order answer is a json {type(data).__name__}, not an object",
                provider=self.name, order_id=order_id, status_code=response.status_code,
            )
        answered = data.get("Id")
        if isinstance(answered, str) and answered != order_id:  # a proxy's or cache's mix-up
            raise ResponseFormatError(
                f"answer is about order {answered[:64]!r}", provider=self.name, order_id=order_id
            )
        order = payload.read_order(data) or self.structure(order_id, data, payload.GootenOrder)
        ids = [item.id for item in order.items]
        if None in ids or len(set(ids)) != len(ids):  # never mix two schemes, never repeat
            ids = [str(position) for position in range(len(ids))]
        items = tuple(
            ParsedItem(str(item_id), item.status, item.tracking())
            for item_id, item in zip(ids, order.items, strict=True)
        )
        return ParsedOrder(
            order_id,
            items=items,
            native_payment=next(
                (i.native_status for i in items
                 if i.native_status is not None and native_key(i.native_status) in _REFUNDS),
                None,
            ),
            raw=data,
        )

    # -- update -----------------------------------------------------------------------------

    def build_update(self, order_id: str, native_target: str) -> httpx.Request:
        """``POST {base}orderstatus?recipeid=&id=&orderStatusName=&partnerBillingKey=``, no body.

        The key is added as the request is sent (:meth:`auth`); httpx encodes every value, so
        a key holding ``+ / = & %`` arrives intact.
        """
        return httpx.Request(
            "POST", self.base_url.join(UPDATE_PATH),
            params={"recipeid": self.settings.recipe_id, "id": order_id,
                    "orderStatusName": native_target},
            extensions={_NEEDS_KEY: True},
        )

    def auth(self) -> httpx.Auth:
        """Adds the partner billing key to update requests as they are sent."""
        return QueryAuth({KEY_PARAM: self.settings.partner_billing_key},
                         when=lambda request: bool(request.extensions.get(_NEEDS_KEY)))

    def parse_update(self, order_id: str, response: httpx.Response) -> None:
        """``{"HadError": false}`` is success; ``true`` raises :class:`UpdateRejectedError`."""
        data = self.json(order_id, response)
        self._raise_for_body(order_id, response, data, update=True)
        if payload.had_error(data) is None:
            raise ResponseFormatError(
                "update answer carries no readable HadError",
                provider=self.name, order_id=order_id, status_code=response.status_code,
            )

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(
        self, body: bytes, headers: httpx.Headers, query: httpx.QueryParams
    ) -> str:
        """The id from the ``orderid`` query parameter; the body is never read."""
        values = [v for k, v in query.multi_items() if k.casefold() == WEBHOOK_PARAM]
        if not values:
            raise InvalidWebhookError(
                "webhook has no orderid query parameter (the url set in the gooten admin must "
                "end in ?orderid=)", provider=self.name,
            )
        if len(values) > 1:
            raise InvalidWebhookError(
                f"webhook carries {len(values)} orderid query parameters", provider=self.name
            )
        if not values[0].strip():
            raise InvalidWebhookError("webhook carries an empty orderid", provider=self.name)
        return values[0]

    # -- errors -----------------------------------------------------------------------------

    def classify_error(self, order_id: str | None, response: httpx.Response) -> Exception | None:
        """Gooten's error bodies: a refused recipe id whatever the status code, and a ``HadError``
        answer to an update whatever the status code; other bodies except on 429 and 5xx, which
        keep the generic handling (``Retry-After``, retries)."""
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        try:
            update = response.request.url.path.rstrip("/").endswith(UPDATE_PATH)
        except RuntimeError:
            update = False
        status = response.status_code
        refused_update = update and status >= 500 and payload.had_error(data) is True
        if (status == 429 or status >= 500) and not refused_update:
            refusal = payload.auth_refusal(data)
            return None if refusal is None else AuthenticationError(
                f"recipe id refused: {refusal}", provider=self.name, order_id=order_id,
                status_code=status,
            )
        try:
            self._raise_for_body(order_id, response, data, update=update)
        except ProviderError as err:
            return err
        return None

    def _raise_for_body(
        self, order_id: str | None, response: httpx.Response, data: Any, *, update: bool = False
    ) -> None:
        """Raise the core error a Gooten error body stands for, if it is one."""
        common: dict[str, Any] = {
            "provider": self.name, "order_id": order_id, "status_code": response.status_code,
        }
        refusal = payload.auth_refusal(data)
        if refusal is not None:
            raise AuthenticationError(f"recipe id refused: {refusal}", **common)
        error = payload.gooten_error(data)
        if error is not None:
            detail = error.describe()
            key_refused = any(p.casefold() == "partnerbillingkey" for p in error.properties)
            if key_refused or response.status_code in (401, 403):
                raise AuthenticationError(f"credentials refused: {detail}", **common)
            if update:
                raise UpdateRejectedError(
                    f"update refused: {detail}",
                    messages=error.messages, reference=error.reference, **common,
                )
            raise self._error_kind(response, update)(f"order lookup failed: {detail}", **common)
        message = payload.plain_message(data)
        if message is not None and (not response.is_success or "Items" not in data):
            raise self._error_kind(response, update)(f"gooten answered: {message}", **common)

    @staticmethod
    def _error_kind(response: httpx.Response, update: bool) -> type[ProviderError]:
        if response.status_code in (401, 403):
            return AuthenticationError
        if response.status_code == 404 and not update:
            return OrderNotFoundError
        return ProviderError
