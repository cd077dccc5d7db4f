"""Coverage-guided fuzzing of webhook parsing and answer parsing, for every installed provider.

Not part of CI (atheris needs a clang-built CPython wheel on some platforms). Run locally::

    pip install atheris
    python fuzz/fuzz_webhooks.py -max_total_time=300          # add a corpus directory to keep it

Each input is split into a provider choice, a body, headers, a query string and a provider
answer. The target fails (and atheris saves the crashing input) whenever the library answers
with anything but its own typed errors, or requests a URL for an id it should have refused.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import httpx

    from orderstatus import Client, OrderStatusError, check_order_id, default_registry

    # loading the registry imports the plugins, so they are instrumented too
    PROVIDERS = tuple(
        n for n in default_registry().names if default_registry().registration(n).sandbox
    )
SANDBOXES = {n: default_registry().registration(n).sandbox() for n in PROVIDERS}  # type: ignore[misc]
ANSWER: list[httpx.Response] = []


def _transport(name: str) -> httpx.MockTransport:
    sandbox = SANDBOXES[name]

    def handle(request: httpx.Request) -> httpx.Response:
        request.read()
        if ANSWER and "oauth" not in request.url.path:
            return ANSWER[0]
        return sandbox.handle(request)

    return httpx.MockTransport(handle)


CLIENTS = {
    name: Client({name: SANDBOXES[name].settings("http://127.0.0.1/")},
                 transport=_transport(name), sleep=lambda _: None)
    for name in PROVIDERS
}


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    name = PROVIDERS[fdp.ConsumeIntInRange(0, len(PROVIDERS) - 1)]
    client = CLIENTS[name]
    content_type = fdp.PickValueInList(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", ""])
    header = fdp.ConsumeUnicodeNoSurrogates(30)
    query = fdp.ConsumeUnicodeNoSurrogates(60)
    answer_status = fdp.ConsumeIntInRange(200, 599)
    answer_body = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400))
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    headers = {"content-type": content_type, "x-fuzz": header}
    try:
        order_id = client.webhook_order_id(name, body=body, headers=headers, query=query)
    except OrderStatusError:
        return
    if check_order_id(order_id) != order_id:
        raise AssertionError(f"unsafe id accepted: {order_id!r}")
    ANSWER[:] = [httpx.Response(answer_status, content=answer_body)]
    try:
        client.handle_webhook(name, body=body, headers=headers, query=query)
    except OrderStatusError:
        pass
    finally:
        ANSWER.clear()


def main() -> None:
    if not PROVIDERS:
        sys.exit("no provider with a sandbox is installed (pip install -e tests/fakeshop ...)")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
