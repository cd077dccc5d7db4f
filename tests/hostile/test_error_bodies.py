"""Hostile answers from a real loopback server: deep JSON, error bodies of the wrong shape,
huge messages, echoed credentials in every spelling.

Every installed provider with a sandbox, sync and async. A call ends with an order status or
the library's own one-line error, quoting at most a short excerpt of what the provider said
and no spelling of any credential; ``fetch_many`` yields a result for every order and a sweep
completes when some answers are hostile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest

from orderstatus import AsyncClient, Client, FetchFailure, OrderStatus, OrderStatusError
from orderstatus.models import utcnow
from orderstatus.stores import MemoryStore
from orderstatus.testing.asgi import serve
from orderstatus.testing.leaks import credential_forms, credential_leaks
from orderstatus.testing.sandbox import Sandbox
from orderstatus.tracking import Tracker
from orderstatus.watch import Watcher
from tests.conftest import Api
from tests.providers import SANDBOXED, new_sandbox

from .conftest import NO_RETRY, outcome
from .servers import Answering

MESSAGE_LIMIT = 600
"""Longest message an error may have: its context and a short excerpt of the provider's words."""
HUGE = "a provider said this " * 2_000
BODIES: dict[str, bytes] = {
    "nested 100,000 lists deep": b"[" * 100_000 + b"]" * 100_000,
    "nested 50,000 objects deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "nested 200 deep (parses)": b"[" * 200 + b"]" * 200,
    "nested 65 objects deep in an error": json.dumps(
        {"HadError": True, "Errors": [{"ErrorMessage": "x"}], "deep": json.loads(
            '{"a":' * 65 + "1" + "}" * 65)}).encode(),
    "gooten Errors a number": b'{"HadError": true, "Errors": 5}',
    "gooten Errors of odd shapes": b'{"HadError": true, "Errors": ["x", 5, null, [1], '
                                   b'{"ErrorMessage": {"a": 1}, "PropertyName": 7}], '
                                   b'"ErrorReferenceCode": {"a": [1]}}',
    "gooten HadError a string": b'{"HadError": "yes", "Errors": {"ErrorMessage": "x"}}',
    "message an object": b'{"Message": {"x": [1, 2]}, "message": [null], "error": {"code": 5}}',
    "huge messages": json.dumps({
        "Message": HUGE, "error": HUGE, "message": HUGE, "error_description": HUGE,
        "HadError": True, "Errors": [{"ErrorMessage": HUGE, "PropertyName": HUGE}] * 5,
        "ErrorReferenceCode": HUGE}).encode(),
    "token of the wrong types": b'{"access_token": 5, "token_type": ["bearer"], '
                                b'"expires_in": {"s": 1}, "error": 7}',
    "token lifetime absurd": b'{"access_token": "abc", "token_type": "bearer", '
                             b'"expires_in": 1e999}',
    "token lifetime NaN": b'{"access_token": "abc", "token_type": "bearer", "expires_in": NaN}',
    "token lifetime huge int": b'{"access_token": "abc", "token_type": "bearer", "expires_in": '
                               + b"9" * 400 + b"}",
    "null": b"null",
    "a number": b"-1e999",
    "a string": b'"HadError"',
    "empty": b"",
    "not utf-8": b'{"Message": "\xff\xfe\xfd"}',
}
STATUSES = (200, 400, 401, 404, 500)
"""Statuses the hostile bodies come with (success, the client's mistakes, the server's)."""
TOKEN_STATUSES = (200, 401, 500)
"""Statuses of a token endpoint's answer its parsers tell apart: a token, a refusal, a retry."""


@pytest.fixture(params=SANDBOXED)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def answering(provider: str) -> Iterator[tuple[Sandbox, Answering, str]]:
    """``(sandbox, app, url)``: the provider's sandbox behind an :class:`Answering` app,
    served on loopback."""
    sandbox = new_sandbox(provider)
    app = Answering(sandbox.asgi())
    with serve(app) as url:
        yield sandbox, app, url


def answers(answer: tuple[int, bytes], order_id: str | None
            ) -> Callable[[set[str]], tuple[int, bytes] | None]:
    """An :attr:`Answering.answer` giving ``answer`` to the requests for ``order_id`` (every
    request if ``None``)."""
    return lambda parts: answer if order_id is None or order_id in parts else None


def checked(result: Any) -> Any:
    """``result`` (an order status or the library's error), its message short enough."""
    if isinstance(result, OrderStatusError):
        assert len(str(result)) <= MESSAGE_LIMIT, f"{len(str(result))} chars: {result}"
    else:
        assert isinstance(result, OrderStatus), result
    return result


def test_hostile_bodies_end_in_typed_short_errors(
    answering: tuple[Sandbox, Answering, str], provider: str, kind: str
) -> None:
    """Each body with each status for the order's requests; and for every request of a new
    client, so that a token endpoint's parsers get each body too (with the statuses its
    parsers tell apart)."""
    sandbox, app, url = answering
    order_id = sandbox.create_order()
    tokens = False
    tried = 0
    for token_too in (False, True):
        if token_too and not tokens:
            break
        api = Api(kind, {provider: sandbox.settings(url)}, retry=NO_RETRY, timeout=10.0)
        before = app.requests
        api.fetch(provider, order_id)  # any token is fetched now, while nothing is hostile
        tokens = tokens or app.requests - before > 1  # its auth flow sends requests of its own
        for name, body in BODIES.items():
            for status in TOKEN_STATUSES if token_too else STATUSES:
                if token_too:  # a new client asks for a new token
                    api.close()
                    api = Api(kind, {provider: sandbox.settings(url)}, retry=NO_RETRY,
                              timeout=10.0)
                app.answer = answers((status, body), None if token_too else order_id)
                result = checked(outcome(functools.partial(api.fetch, provider, order_id)))
                if status >= 300:
                    assert isinstance(result, OrderStatusError), (name, status, result)
                tried += 1
        app.answer = lambda parts: None
        assert isinstance(api.fetch(provider, order_id), OrderStatus), "the client still works"
        api.close()
    assert tried == len(BODIES) * (len(STATUSES) + tokens * len(TOKEN_STATUSES))
    assert app.answered >= tried


def echoes(secret: str) -> dict[str, str]:
    """The spellings of ``secret`` a careless server echoes, by name."""
    return {name: form for name, form in credential_forms(secret).items() if name != "raw"} | {
        "raw": secret, "encoded, then partly decoded": quote(secret, safe="").replace("%2F", "/"),
        "lower-case hex, encoded twice": quote(quote(secret, safe=""), safe="").lower(),
    }


def echo_bodies(real: Any, echo: str) -> Iterator[tuple[int, bytes]]:
    """``(status, body)`` answers carrying ``echo``: the provider's real answer with every
    text in it replaced, and error bodies of the shapes providers send."""
    def replaced(value: Any) -> Any:
        if isinstance(value, str):
            return echo
        if isinstance(value, dict):
            return {k: replaced(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replaced(v) for v in value]
        return value

    yield 200, json.dumps(replaced(real)).encode()
    yield 200, json.dumps({"Message": echo}).encode()
    error = {"Message": f"bad key {echo}", "error": echo, "message": f"you sent {echo}",
             "error_description": echo, "HadError": True, "ErrorReferenceCode": echo,
             "Errors": [{"ErrorMessage": f"key {echo} refused", "PropertyName": echo}]}
    for status in (400, 401, 422, 500):
        yield status, json.dumps(error).encode()
    yield 502, f"<html>{echo}</html>".encode()


def shows(text: str, secret: str) -> bool:
    """Whether ``text`` shows ``secret`` in any spelling (decoded, any letter case)."""
    return any(form.casefold() in text.casefold() for form in echoes(secret).values())


def configured(provider: str, sandbox: Sandbox, url: str
               ) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """``(a new order's id, settings for the served sandbox, the credentials among them)``."""
    settings = sandbox.settings(url)
    with Client({provider: settings}) as client:
        secrets = client.provider(provider).secrets()
    return sandbox.create_order(), settings, secrets


def test_echoed_credentials_show_in_no_spelling(
    answering: tuple[Sandbox, Answering, str], provider: str, kind: str
) -> None:
    sandbox, app, url = answering
    order_id, settings, secrets = configured(provider, sandbox, url)
    api = Api(kind, {provider: settings}, retry=NO_RETRY, timeout=10.0)
    real = api.fetch(provider, order_id).raw
    errors = 0
    for secret in secrets:
        for name, echo in echoes(secret).items():
            for answer in echo_bodies(real, f"echo {echo} end"):
                app.answer = answers(answer, order_id)
                result = checked(outcome(lambda: api.fetch(provider, order_id)))
                if isinstance(result, OrderStatusError):
                    errors += 1
                    leaks = credential_leaks(result, secrets)
                    assert not leaks, f"{name} echo of a credential: {leaks} in {result}"
                    assert not any(shows(repr(result), s) for s in secrets), (name, result)
    api.close()
    assert errors >= len(secrets) * len(echoes(secrets[0])) * 5


def test_the_cli_prints_no_echoed_credential(
    answering: tuple[Sandbox, Answering, str], provider: str
) -> None:
    from tests.cli.conftest import clean_env, run

    sandbox, app, url = answering
    order_id, settings, secrets = configured(provider, sandbox, url)
    spelled = " ".join(form for s in secrets for form in echoes(s).values())
    env = clean_env(**{f"ORDERSTATUS_{provider.upper()}_{k.upper()}": str(v)
                       for k, v in settings.items()})
    hostile = [((), 400, {"Message": spelled, "error": spelled, "HadError": True,
                          "Errors": [{"ErrorMessage": spelled}]}),
               (("--json",), 200, {"Message": spelled, "status": spelled})]
    for output, status, body in hostile:
        app.answer = answers((status, json.dumps(body).encode()), order_id)
        done = run("fetch", *output, f"{provider}:{order_id}", env=env)
        assert done.returncode != 0, done
        assert order_id in done.stderr + done.stdout
        for secret in secrets:
            assert not shows(done.stderr + done.stdout, secret), done


def refs_of(provider: str, ids: list[str]) -> list[tuple[str, str]]:
    return [(provider, i) for i in ids]


def hostile_for(bad: list[str]) -> Callable[[set[str]], tuple[int, bytes] | None]:
    """Answers each of the ``bad`` orders with one of :data:`BODIES` (round-robin)."""
    bodies = list(BODIES.values())
    chosen = {order_id: (STATUSES[n % len(STATUSES)], bodies[n % len(bodies)])
              for n, order_id in enumerate(bad)}
    return lambda parts: next((chosen[i] for i in parts & chosen.keys()), None)


def test_fetch_many_yields_every_order_when_some_answers_are_hostile(
    answering: tuple[Sandbox, Answering, str], provider: str, kind: str
) -> None:
    sandbox, app, url = answering
    good = [sandbox.create_order() for _ in range(6)]
    bad = [sandbox.create_order() for _ in range(len(BODIES))]
    app.answer = hostile_for(bad)
    api = Api(kind, {provider: sandbox.settings(url)}, retry=NO_RETRY, timeout=10.0)
    results = api.fetch_many(refs_of(provider, good + bad), concurrency=4)
    api.close()
    assert sorted(r.order_id for r in results) == sorted(good + bad)
    assert {r.order_id for r in results if isinstance(r, OrderStatus)} >= set(good)
    for result in results:
        if isinstance(result, FetchFailure):
            assert result.order_id in bad
            checked(result.error)


def test_a_sweep_completes_when_some_answers_are_hostile(
    answering: tuple[Sandbox, Answering, str], provider: str
) -> None:
    """Feeds included: every request but the good orders' is hostile, so a provider's feed
    fails and its orders are fetched one by one."""
    sandbox, app, url = answering
    good = [sandbox.create_order() for _ in range(4)]
    bad = [sandbox.create_order() for _ in range(len(BODIES))]
    tracker = Tracker(MemoryStore())

    async def sweep() -> Any:
        async with AsyncClient({provider: sandbox.settings(url)}, retry=NO_RETRY,
                               timeout=10.0) as client:
            for order_id in good + bad:
                await tracker.aobserve(await client.fetch(provider, order_id))
            hostile = hostile_for(bad)
            app.answer = lambda parts: (hostile(parts) or (
                None if parts & set(good) or "oauth" in parts else (500, BODIES["null"])))
            later = utcnow() + dt.timedelta(days=2)  # every tracked order is due by then
            watcher = Watcher(client, tracker, clock=lambda: later, batch_size=5)
            return await asyncio.wait_for(watcher.sweep(), 60), watcher

    report, watcher = asyncio.run(sweep())
    tracker.close()
    feeds = client_capabilities(provider).feed  # a failed feed counts as one failure
    assert (report.checked, report.failed) == (len(good), len(bad) + feeds), report
    failed = {f.order_id for f in watcher.failures} - {""}
    assert failed <= set(bad)
    for failure in watcher.failures:
        checked(failure.error)


def client_capabilities(provider: str) -> Any:
    from orderstatus import default_registry

    return default_registry().provider(provider).capabilities


def test_deep_json_is_refused_by_every_provider_parser(provider: str) -> None:
    """:meth:`Provider.json` refuses nesting deeper than :data:`MAX_JSON_DEPTH` however deep."""
    import httpx

    from orderstatus import ResponseFormatError
    from orderstatus.provider import MAX_JSON_DEPTH

    with Client({provider: new_sandbox(provider).settings("http://127.0.0.1/")}) as client:
        parser = client.provider(provider)
        for depth in (MAX_JSON_DEPTH + 1, 1_000, 100_000):
            response = httpx.Response(200, content=b"[" * depth + b"]" * depth)
            with pytest.raises(ResponseFormatError, match="nested deeper"):
                parser.json("x", response)
        shallow = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
        assert parser.json("x", httpx.Response(200, content=shallow)) is not None
        many = json.dumps([[1]] * 1_000).encode()  # many brackets, none deep
        assert len(parser.json("x", httpx.Response(200, content=many))) == 1_000

