"""OAuth client credentials: one cached token, renewed near expiry and once on a 401."""

from __future__ import annotations

import httpx
import pytest

from orderstatus import Client
from orderstatus.errors import AuthenticationError, ResponseFormatError


def calls(sandbox, kind=None):
    """The sandbox's request log, as ``"POST oauth"``-like words."""
    words = [f"{m} {p.split('/v2/', 1)[1]}" for m, p in sandbox.requests]
    return words if kind is None else [w for w in words if w.startswith(kind)]


def test_one_token_serves_many_requests(api, sandbox):
    order_id = sandbox.create_order()
    for _ in range(3):
        api.fetch(order_id)
    api.feed()
    assert sandbox.tokens_issued == 1
    assert calls(sandbox) == [
        "POST oauth", *[f"GET orders/{order_id}"] * 3, "GET sync/statuses"
    ]


def test_token_is_renewed_shortly_before_it_expires(api, sandbox):
    sandbox.token_lifetime = 600  # renewed 60 s before its end
    order_id = sandbox.create_order()
    api.fetch(order_id)
    api.advance(539)
    api.fetch(order_id)
    assert sandbox.tokens_issued == 1
    api.advance(2)
    api.fetch(order_id)
    assert sandbox.tokens_issued == 2
    # renewed ahead of time: no request was refused on the way
    assert calls(sandbox) == ["POST oauth", *[f"GET orders/{order_id}"] * 2, "POST oauth",
                              f"GET orders/{order_id}"]


def test_short_lived_tokens_are_renewed_a_tenth_before_they_expire(api, sandbox):
    sandbox.token_lifetime = 100
    order_id = sandbox.create_order()
    api.fetch(order_id)
    api.advance(89)
    api.fetch(order_id)
    api.advance(2)
    api.fetch(order_id)
    assert sandbox.tokens_issued == 2


def test_a_token_the_server_expired_is_renewed_once_on_401(api, sandbox):
    order_id = sandbox.create_order()
    api.fetch(order_id)
    sandbox.advance(sandbox.token_lifetime)  # the client's clock still thinks it is fresh
    api.fetch(order_id)
    assert sandbox.tokens_issued == 2
    get = f"GET orders/{order_id}"
    assert calls(sandbox) == ["POST oauth", get, get, "POST oauth", get]


def test_a_second_401_gives_up_with_authentication_error(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.refuse_tokens = True
    with pytest.raises(AuthenticationError) as caught:
        api.fetch(order_id)
    assert caught.value.status_code == 401
    get = f"GET orders/{order_id}"
    assert calls(sandbox) == ["POST oauth", get, "POST oauth", get]
    # the refused token is forgotten: the next call starts with a fresh one
    sandbox.refuse_tokens = False
    api.fetch(order_id)
    assert calls(sandbox)[-2:] == ["POST oauth", get]


@pytest.mark.parametrize("setting", ["client_secret", "client_id"])
def test_wrong_credentials_are_an_authentication_error(connect, sandbox, setting):
    api = connect(**{setting: "wrong-value-1234"})
    with pytest.raises(AuthenticationError, match="invalid_client") as caught:
        api.fetch(sandbox.create_order())
    assert caught.value.status_code == 401
    assert "oauth" in (caught.value.url or "")
    assert calls(sandbox) == ["POST oauth"]
    assert sandbox.client_secret not in str(caught.value) + repr(caught.value)


def test_one_token_for_many_concurrent_requests(api, sandbox):
    ids = [sandbox.create_order() for _ in range(24)]
    results = api.fetch_many(ids)
    assert len(results) == 24
    assert calls(sandbox, "POST") == ["POST oauth"]


def test_one_renewal_for_many_concurrent_401s(api, sandbox):
    ids = [sandbox.create_order() for _ in range(16)]
    api.fetch(ids[0])
    sandbox.advance(sandbox.token_lifetime)
    results = api.fetch_many(ids)
    assert all(r.state.value == "created" for r in results)
    assert calls(sandbox, "POST") == ["POST oauth"] * 2


def test_token_endpoint_rate_limit_is_honoured(api, sandbox):
    sandbox.faults.inject("rate_limit", retry_after=3, path="/oauth")
    api.fetch(sandbox.create_order())
    assert api.sleeps == [3.0]
    assert calls(sandbox, "POST") == ["POST oauth"] * 2


def test_token_endpoint_outage_is_retried(api, sandbox):
    sandbox.faults.inject("status", status=503, path="/oauth")
    api.fetch(sandbox.create_order())
    assert len(api.sleeps) == 1
    assert sandbox.tokens_issued == 1


@pytest.mark.parametrize("kind", ["not_json", "malformed"])
def test_unusable_token_answer_is_a_format_error(api, sandbox, kind):
    sandbox.faults.inject(kind, path="/oauth")
    with pytest.raises(ResponseFormatError, match="usable bearer token"):
        api.fetch(sandbox.create_order())


def test_token_request_keeps_the_clients_timeouts(sandbox):
    seen = {}

    def handler(request):
        request.read()
        seen[request.url.path] = request.extensions.get("timeout")
        return sandbox.handle(request)

    settings = {"printapi": sandbox.settings("http://127.0.0.1/")}
    with Client(settings, transport=httpx.MockTransport(handler), timeout=3.5) as client:
        order_id = sandbox.create_order()
        client.fetch("printapi", order_id)
    assert seen["/v2/oauth"] == seen[f"/v2/orders/{order_id}"]
    assert seen["/v2/oauth"]["read"] == 3.5
