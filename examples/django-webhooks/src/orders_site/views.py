"""``POST /webhooks/<provider>``: fetch the order a notification names, record it, answer.

A notification is only a hint about which order changed (providers do not sign them), so the
view fetches the order's real status and stores what the tracker makes of it. It answers 200
only once the status is stored; whenever it cannot, it asks the provider to call again.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orderstatus import (
    InvalidWebhookError,
    OrderNotFoundError,
    OrderStatusError,
    UnknownProviderError,
    WebhookContentTypeError,
)

from .orders import client, tracker

log = logging.getLogger(__name__)


def _answer(status: int, **body: str) -> JsonResponse:
    return JsonResponse(body, status=status)


@csrf_exempt  # providers post without a CSRF token; the fetch is what makes a notification true
@require_POST  # anything else: 405
def webhook(request: HttpRequest, provider: str) -> JsonResponse:
    try:
        status = client().handle_webhook(
            provider, body=request.body, headers=request.headers,
            query=request.META.get("QUERY_STRING", ""),
        )
    except UnknownProviderError as err:
        return _answer(404, error=err.message)
    except WebhookContentTypeError as err:
        return _answer(415, error=err.message)
    except InvalidWebhookError as err:
        return _answer(400, error=err.message)
    except OrderNotFoundError as err:  # a forged or stale id: nothing to store, nothing to retry
        log.info("%s webhook for an unknown order ignored: %s", provider, err)
        return _answer(200, result="ignored")
    except OrderStatusError as err:
        if err.retryable:  # timeouts, 5xx, rate limits: the provider calls again later
            log.warning("%s webhook: fetch failed, asking for a retry: %s", provider, err)
            return _answer(503, error=f"retry later: {err.message}")
        log.error("%s webhook: fetch failed: %s", provider, err)
        return _answer(500, error=err.message)
    entry = tracker().record(status)
    return _answer(200, result=entry.outcome.value, order_id=status.order_id,
                   state=status.state.value)
