"""The webhook receiver: take the order id out of a notification and queue it, nothing more.

It answers at once, without calling the provider: the worker does the fetching. Mount
:func:`enqueue` in any web framework, or serve :func:`application` (plain WSGI) with gunicorn.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kombu.exceptions import OperationalError

from orderstatus import InvalidWebhookError, UnknownProviderError, WebhookContentTypeError

from .orders import client
from .tasks import record_order, reference

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
PREFIX = "/webhooks/"


def enqueue(provider: str, *, body: bytes, headers: Mapping[str, str],
            query: str) -> tuple[int, dict[str, str]]:
    """Queue the order a notification names: ``(HTTP status, JSON body)`` to answer with."""
    try:
        order_id = client().webhook_order_id(provider, body=body, headers=headers, query=query)
    except UnknownProviderError as err:
        return 404, {"error": err.message}
    except WebhookContentTypeError as err:
        return 415, {"error": err.message}
    except InvalidWebhookError as err:
        return 400, {"error": err.message}
    ref = reference(provider, order_id)
    try:
        record_order.delay(ref)
    except OperationalError as err:  # the broker is unreachable: the provider calls again
        log.warning("%s: could not queue: %s", ref, err)
        return 503, {"error": "queue unavailable, retry later"}
    return 202, {"queued": ref}


StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """``POST /webhooks/<provider>`` as a WSGI application."""
    path: str = environ.get("PATH_INFO", "")
    size = int(environ.get("CONTENT_LENGTH") or 0)
    if not path.startswith(PREFIX) or "/" in path[len(PREFIX):]:
        status, answer = 404, {"error": "no such path"}
    elif environ["REQUEST_METHOD"] != "POST":
        status, answer = 405, {"error": "webhooks must be posted"}
    elif size > MAX_BODY:
        status, answer = 413, {"error": f"body over {MAX_BODY} bytes"}
    else:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        status, answer = enqueue(path[len(PREFIX):], body=environ["wsgi.input"].read(size),
                                 headers=headers, query=environ.get("QUERY_STRING", ""))
    content = json.dumps(answer).encode()
    start_response(f"{status} {_REASONS[status]}", [
        ("content-type", "application/json"), ("content-length", str(len(content))),
        *([("allow", "POST")] if status == 405 else []),
    ])
    return [content]


_REASONS = {202: "Accepted", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            413: "Content Too Large", 415: "Unsupported Media Type", 503: "Service Unavailable"}
