"""``mount``: several ASGI apps on one port, each under ``/{name}/``, as a stripping proxy
serves them; and ``Sandbox.public_url``, which puts the stripped prefix back into links."""

from __future__ import annotations

import httpx
import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from orderstatus import Client, OrderState
from orderstatus.asgi import FORWARDED_PREFIX
from orderstatus.testing.asgi import asgi_app, mount, serve
from orderstatus.testing.sandbox import Sandbox


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={
        "path": request.url.raw_path.decode().split("?")[0], "query": request.url.query.decode(),
        "prefix": request.headers.get(FORWARDED_PREFIX),
        "prefixes": request.headers.get_list(FORWARDED_PREFIX),
        "link": str(Sandbox.public_url(request, "/v2/x")),
    })


def test_each_app_sees_the_path_below_its_prefix_and_the_prefix_in_a_header() -> None:
    with serve(mount({"one": asgi_app(_echo), "two_2": asgi_app(_echo)})) as url, \
            httpx.Client(base_url=url) as http:
        one = http.get("one/v2/orders/1?x=1").json()
        assert one == {"path": "/v2/orders/1", "query": "x=1", "prefix": "/one",
                       "prefixes": ["/one"], "link": f"{url}one/v2/x"}
        assert http.get("two_2/").json()["path"] == "/"
        forged = http.get("two_2/a%2Fb", headers={FORWARDED_PREFIX: "/evil"}).json()
        assert forged["prefixes"] == ["/two_2"]  # the client's own header is dropped
        assert forged["path"] == "/a%2Fb"  # percent-encoding kept below the prefix
        assert http.get("%6Fne/v2/orders/1").json()["prefix"] == "/one"  # encoded prefix
        for path in ("", "one", "three/", "onex/"):
            missing = http.get(path)
            assert missing.status_code == 404
            assert missing.json()["paths"] == ["/one/", "/two_2/"]


def test_a_name_with_a_slash_cannot_be_mounted() -> None:
    with pytest.raises(ValueError, match="one path segment"):
        mount({"a/b": asgi_app(_echo)})


def test_a_sandbox_served_under_a_prefix_works_as_served_alone() -> None:
    sandbox = FakeshopSandbox()
    with serve(mount({"fakeshop": sandbox.asgi()})) as url:
        created = httpx.post(f"{url}fakeshop/_sandbox/orders", json={"items": 1})
        order = created.json()["id"]
        httpx.post(f"{url}fakeshop/_sandbox/orders/{order}/status", json={"status": "making"})
        settings = sandbox.settings(f"{url}fakeshop/")
        assert settings == {"api_key": API_KEY, "base_url": f"{url}fakeshop/v1/"}
        with Client({"fakeshop": settings}) as client:
            assert client.fetch("fakeshop", order).state is OrderState.IN_PRODUCTION
    assert sandbox.requests == [("GET", f"/v1/orders/{order}")]
