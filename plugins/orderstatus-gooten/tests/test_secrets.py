"""The partner billing key never shows: not in errors, reprs, urls, tracebacks or logs."""

from __future__ import annotations

import logging
import socket
import traceback
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from orderstatus_gooten import GootenProvider, GootenSettings

from orderstatus import OrderState, OrderStatusError

KEY = "Pbk+secret/Value=&%2Fzz"
FORMS = (KEY, quote(KEY, safe=""), quote_plus(KEY), quote(KEY))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def texts_of(error: BaseException) -> list[str]:
    """Every text of ``error`` and of every error chained to it, shown or suppressed."""
    texts = ["".join(traceback.format_exception(error))]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), *map(str, current.args)]
        texts += [repr(v) for v in vars(current).values()]
        current = current.__cause__ or current.__context__
    return texts


def chained(errors: list[OrderStatusError]) -> list[BaseException]:
    found: list[BaseException] = []
    for error in errors:
        current: BaseException | None = error
        while current is not None and current not in found:
            found.append(current)
            current = current.__cause__ or current.__context__
    return found


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text, text


def failures(gooten: Any) -> list[OrderStatusError]:
    """Run every failing call whose request carried the key; return the errors."""
    sandbox = gooten.sandbox
    errors: list[OrderStatusError] = []

    def failing(fault: dict[str, Any] | None = None, *, stale: bool = False,
                network: bool = False, **settings: Any) -> None:
        oid = sandbox.create_order()
        current = gooten.fetch(oid)
        if fault is not None:
            sandbox.faults.inject(**fault, path="orderstatus")
        if stale:
            sandbox.set_status(oid, "Printing")
        with pytest.raises(OrderStatusError) as raised:
            gooten.update(oid, "cancelled", current=current, network=network,
                          settings=gooten.settings(**settings))
        errors.append(raised.value)
        sandbox.faults.clear()

    failing({"kind": "status", "status": 500})
    failing({"kind": "rate_limit", "times": 10})
    failing({"kind": "reset"})
    failing(recipe_id="wrong")
    failing(partner_billing_key=KEY + "x")
    failing(base_url=f"http://127.0.0.1:{closed_port()}/", network=True)
    failing(stale=True)
    return errors


def test_the_key_never_appears_anywhere(
    gooten: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gooten.sandbox.partner_billing_key = KEY
    for logger in ("", "httpx", "httpcore", "orderstatus"):
        caplog.set_level(logging.DEBUG, logger=logger or None)
    oid = gooten.sandbox.create_order()
    assert gooten.update(oid, OrderState.ON_HOLD).state is OrderState.ON_HOLD
    errors = failures(gooten)
    assert len(errors) == 7
    kinds = {type(e).__name__ for e in errors}
    assert {"ProviderUnavailableError", "RateLimitedError", "OutcomeUnknownError",
            "AuthenticationError", "UpdateRejectedError"} <= kinds
    urls = [getattr(e, "url", None) or "" for e in chained(errors)]
    # the 500, the 429s and the refused connection (an error chained under the re-fetch's):
    # their url is the update's, which the key is added to only as it is sent
    assert sum("orderStatusName=" in url for url in urls) >= 3, urls
    for error in errors:
        assert_clean(texts_of(error))
        assert "partnerBillingKey" not in (getattr(error, "url", None) or "")
    http_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("partnerBillingKey" in line for line in http_lines), "httpx logged no update"
    assert_clean([r.getMessage() for r in caplog.records])
    assert_clean([caplog.text])


def test_settings_and_provider_reprs_hide_the_key() -> None:
    settings = GootenSettings(recipe_id="r", partner_billing_key=KEY)
    provider = GootenProvider(settings)
    assert_clean([repr(settings), str(settings), repr(provider), repr(vars(provider))])
    assert settings.partner_billing_key.reveal() == KEY
