"""No credential in the local variables of any frame an error passes through.

Error trackers (Sentry's default) record every frame's locals with ``repr`` and walk the
dicts, lists and tuples among them. Every failure path of every provider with a sandbox (5xx,
4xx, 429, timeouts, dropped connections, garbled answers, refused credentials, refused and
lost updates, answers past the size cap, bad settings and environments), sync and async, in
process and over loopback HTTP, is run; each error's traceback (and every exception chained
to it) is rendered with ``capture_locals=True`` and its frames' locals are walked, and no
form of any credential may appear: raw, percent-encoded (either case of hex), plus-encoded,
base64 of ``id:secret``, nor any bearer token the sandbox issued.
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from orderstatus import (
    Client,
    ConfigurationError,
    OrderState,
    OrderStatusError,
    RetryPolicy,
    default_registry,
)
from orderstatus.settings import env_names
from orderstatus.testing.asgi import serve
from orderstatus.testing.sandbox import Sandbox
from tests.chains import chained
from tests.conftest import Api
from tests.providers import LOCAL, SANDBOXED, new_sandbox

from .test_credentials import lost_update, wrong

TESTS = Path(__file__).resolve().parents[1]
QUICK = RetryPolicy(attempts=2, total=5.0, backoff=0.001, backoff_max=0.002)


def spellings(secret: str) -> set[str]:
    """Every way a URL, a form, a header or a log may spell ``secret``."""
    encoded = {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    lower = {_lower_hex(e) for e in encoded}
    return {secret, *encoded, *lower, quote(quote(secret, safe=""), safe="")}


def _lower_hex(text: str) -> str:
    import re

    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def credential_forms(provider: str, settings: dict[str, Any], sandbox: Sandbox) -> set[str]:
    with Client({provider: settings}) as client:
        secrets = client.provider(provider).secrets()
    forms = {form for s in secrets for form in spellings(s)}
    public = [v for v in settings.values() if isinstance(v, str)]
    forms |= {base64.b64encode(f"{p}:{s}".encode()).decode() for p in public for s in secrets}
    return forms | set(getattr(sandbox, "tokens", {}))


def shown(value: Any, depth: int = 0) -> Iterator[str]:
    """What a tracker records of a local: its ``repr``, and the items of containers."""
    try:
        yield repr(value)
    except Exception as err:  # a broken repr shows its error
        yield repr(err)
    if depth > 4:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from shown(key, depth + 1)
            yield from shown(item, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from shown(item, depth + 1)


def library_frames(error: BaseException) -> Iterator[Any]:
    """The frames of ``error``'s traceback that are not a test's own."""
    tb = error.__traceback__
    while tb is not None:
        if not Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(TESTS):
            yield tb.tb_frame
        tb = tb.tb_next


def frame_texts(error: BaseException) -> list[str]:
    texts: list[str] = []
    for current in chained(error):
        rendered = traceback.TracebackException(
            type(current), current, current.__traceback__, capture_locals=True)
        for frame in rendered.stack:
            if not Path(frame.filename).resolve().is_relative_to(TESTS):
                texts.append(repr(frame.locals))
        for frame in library_frames(current):
            for name, value in frame.f_locals.items():
                texts += [f"{frame.f_code.co_name}.{name}={text}" for text in shown(value)]
    return texts


def assert_no_credential(texts: list[str], forms: set[str]) -> None:
    for text in texts:
        folded = text.casefold()
        for form in forms:
            assert form.casefold() not in folded, f"{form!r} in a frame local: {text[:300]!r}"


def failing_calls(api: Api, small: Api, sandbox: Sandbox, provider: str,
                  settings: dict[str, Any]) -> Iterator[Callable[[], object]]:
    """Every way a call of this client fails."""
    capabilities = default_registry().provider(provider).capabilities
    order_id = sandbox.create_order()
    for fault in ({"kind": "status", "status": 500, "times": 10},
                  {"kind": "status", "status": 404}, {"kind": "status", "status": 400},
                  {"kind": "rate_limit", "retry_after": 999}, {"kind": "malformed", "times": 10},
                  {"kind": "not_json", "times": 10}, {"kind": "html", "times": 10},
                  {"kind": "reset", "times": 10}, {"kind": "timeout", "delay": 0.01, "times": 10}):
        def faulty(fault: dict[str, Any] = fault) -> object:
            with sandbox.faults.during(**fault):
                if capabilities.update:
                    return api.update(provider, order_id, OrderState.CANCELLED)
                return api.fetch(provider, order_id)
        yield faulty
        if capabilities.update:
            def faulty_fetch(fault: dict[str, Any] = fault) -> object:
                with sandbox.faults.during(**fault):
                    return api.fetch(provider, order_id)
            yield faulty_fetch
    yield lambda: api.fetch(provider, "no-such-order")
    yield lambda: small.fetch(provider, order_id)  # past the size cap (a token answer too)
    yield lambda: api.handle_webhook(provider, body=b"{", headers={"content-type": "text/x"})
    if capabilities.update:
        yield lambda: api.update(provider, order_id, OrderState.DELIVERED)

        yield lambda: lost_update(api, sandbox, provider)

        def refused() -> object:
            fresh = sandbox.create_order()
            with sandbox.faults.during("status", status=500, times=1, method="POST"):
                return api.update(provider, fresh, OrderState.CANCELLED, confirm=False)
        yield refused
    if capabilities.feed:
        def outage() -> object:
            sandbox.faults.inject("status", status=503, times=10)
            try:
                return api.feed(provider)
            finally:
                sandbox.faults.clear()
        yield outage


@pytest.fixture(params=SANDBOXED)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("where", ["in-process", "http"])
def test_no_credential_in_any_frame_of_a_failed_call(kind: str, provider: str, where: str) -> None:
    sandbox = new_sandbox(provider)
    errors: list[OrderStatusError] = []

    def run(url: str, transport: Any) -> None:
        options = {"transport": transport} if transport is not None else {"timeout": 2.0}
        for settings in (sandbox.settings(url), wrong(provider, sandbox.settings(url))):
            api = Api(kind, {provider: settings}, retry=QUICK, **options)
            small = Api(kind, {provider: settings}, retry=QUICK, max_response_bytes=40,
                        **options)
            try:
                for call in failing_calls(api, small, sandbox, provider, settings):
                    try:
                        call()
                    except OrderStatusError as err:
                        errors.append(err)
            finally:
                api.close()
                small.close()

    if where == "in-process":
        run(LOCAL, sandbox.transport())
    else:
        with serve(sandbox.asgi()) as url:
            run(url, None)
    assert len(errors) >= 12, "the calls should fail in many ways"
    assert len({type(e) for e in errors}) >= 4
    forms = credential_forms(provider, sandbox.settings(LOCAL), sandbox) | credential_forms(
        provider, wrong(provider, sandbox.settings(LOCAL)), sandbox)
    for error in errors:
        assert_no_credential(frame_texts(error), forms)


def configuration_mistakes(provider: str, settings: dict[str, Any]
                           ) -> Iterator[Callable[[], object]]:
    cls = default_registry().provider(provider).settings_class
    names = env_names(provider, cls)
    environ = {names[k]: v for k, v in settings.items() if isinstance(v, str)}
    yield lambda: Client({provider: {**settings, "colour": "blue"}})
    yield lambda: Client({provider: {**settings, "base_url": "ftp://x.example/"}})
    yield lambda: Client({provider: settings, "nobody": {"key": "x"}})
    yield lambda: Client({provider: settings}, limits={provider: 0})
    yield lambda: Client({provider: settings}, max_response_bytes=0)
    yield lambda: Client({provider: {k: v for k, v in settings.items() if k != "base_url"}
                          | {"base_url": 5}})
    prefix = f"ORDERSTATUS_{provider.upper()}_"
    yield lambda: Client.from_env({**environ, prefix + "BASEURL": "http://127.0.0.1/"})
    yield lambda: Client.from_env({**environ, prefix + "BASE_URL": "ftp://x.example/"})
    secret_only = {k: v for k, v in environ.items() if k != prefix + "BASE_URL"}
    yield lambda: Client.from_env(dict(list(secret_only.items())[-1:])
                                  | {prefix + "BASE_URL": "ftp://x.example/"})


def test_no_credential_in_any_frame_of_a_configuration_error(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = new_sandbox(provider)
    settings = sandbox.settings(LOCAL)
    forms = credential_forms(provider, settings, sandbox)
    errors = []
    for mistake in configuration_mistakes(provider, settings):
        try:
            mistake()
        except ConfigurationError as err:
            errors.append(err)
    # the process's own environment, read by from_env() (os.environ, never a local)
    cls = default_registry().provider(provider).settings_class
    for name, var in env_names(provider, cls).items():
        if isinstance(settings.get(name), str):
            monkeypatch.setenv(var, settings[name])
    monkeypatch.setenv(f"ORDERSTATUS_{provider.upper()}_BASEURL", "x")
    try:
        Client.from_env()
    except ConfigurationError as err:
        errors.append(err)
    assert len(errors) >= 8
    for error in errors:
        assert_no_credential(frame_texts(error), forms)
