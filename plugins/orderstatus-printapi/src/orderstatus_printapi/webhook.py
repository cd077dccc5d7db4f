"""Print API webhook notifications: ``orderId=…`` as a form, and nothing else.

The body is never trusted for a status: it only names the order to fetch. Everything that is
not exactly one well-formed ``orderId`` field in an ``application/x-www-form-urlencoded`` body
is refused with :class:`InvalidWebhookError`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

import httpx

from orderstatus.errors import InvalidWebhookError, WebhookContentTypeError

__all__ = ["FORM", "MAX_BODY", "ORDER_ID", "webhook_order_id"]

FORM = "application/x-www-form-urlencoded"
MAX_BODY = 256
"""Bytes a notification may have; ``orderId=`` and an id are far shorter."""
ORDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""What an order id in a notification looks like: Print API's ids are short and plain."""
_FIELD = re.compile(r"orderId=(?P<value>[A-Za-z0-9%_+.~-]*)")


def webhook_order_id(body: bytes, headers: httpx.Headers, *, provider: str) -> str:
    """The order id a notification names, or :class:`InvalidWebhookError` saying what is wrong."""

    def refuse(reason: str) -> InvalidWebhookError:
        return InvalidWebhookError(f"refused notification: {reason}", provider=provider)

    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != FORM:
        shown = media[:60] or "none"
        raise WebhookContentTypeError(
            f"refused notification: content type must be {FORM}, not {shown}", provider=provider
        )
    if len(body) > MAX_BODY:
        raise refuse(f"body has {len(body)} bytes, more than {MAX_BODY}")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise refuse("body is not ascii form data") from None
    fields = text.split("&") if text else []
    if not fields:
        raise refuse("body is empty; expected orderId=…")
    names = [f.split("=", 1)[0] for f in fields]
    if names.count("orderId") > 1:
        raise refuse("orderId is repeated")
    others = sorted({repr(n[:20]) for n in names if n != "orderId"})
    if others:
        raise refuse(f"unexpected field {', '.join(others)}; only orderId is sent")
    match = _FIELD.fullmatch(fields[0])
    if match is None:
        raise refuse("orderId is not a plain form value")
    value = unquote_plus(match["value"])
    if not value:
        raise refuse("orderId is empty")
    if len(value) > 64:
        raise refuse(f"orderId has {len(value)} characters, more than 64")
    if ORDER_ID.fullmatch(value) is None:
        raise refuse(f"orderId {value[:20]!r} is not a plain id (letters, digits, - and _)")
    return value
