"""Each request logged at DEBUG and each retry at INFO on ``orderstatus.client``, with the
documented ``extra`` fields; the ``on_event`` hook; no credential in any record or event; the
library's NullHandler.

Against the real providers' sandboxes over loopback HTTP (and in-process), sync and async.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from orderstatus import (
    AuthenticationError,
    Client,
    ConfigurationError,
    OrderNotFoundError,
    RequestEvent,
    RequestFinished,
    RequestSent,
    RetryScheduled,
)
from orderstatus.telemetry import FIELDS, LOGGER
from orderstatus.testing.asgi import serve
from orderstatus.testing.sandbox import Sandbox
from tests.conftest import Api
from tests.providers import LOCAL, SANDBOXED, new_sandbox
from tests.security.test_credentials import assert_clean, credentials, run_all, wrong

REQUEST_FIELDS = set(FIELDS) - {"orderstatus_reason", "orderstatus_wait_s"}
RETRY_FIELDS = set(FIELDS) - {"orderstatus_status", "orderstatus_error",
                              "orderstatus_duration_ms"}


@pytest.fixture(params=["printapi", "gooten"])
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


Served = tuple[Sandbox, Api, list[RequestEvent], str]


@pytest.fixture
def served(provider: str, kind: str) -> Iterator[Served]:
    """A provider's sandbox on loopback, a client of it with an event recorder, and its URL."""
    sandbox = new_sandbox(provider)
    events: list[RequestEvent] = []
    with serve(sandbox.asgi()) as url:
        api = Api(kind, {provider: sandbox.settings(url)}, on_event=events.append)
        yield sandbox, api, events, url
        api.close()


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k.startswith("orderstatus_")}


def client_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def test_each_attempt_at_debug_and_each_retry_at_info(
    served: Served, provider: str, client_logs: pytest.LogCaptureFixture
) -> None:
    sandbox, api, events, url = served
    order_id = sandbox.create_order()
    api.fetch(provider, order_id)  # any token request is behind us
    client_logs.clear()
    events.clear()
    sandbox.faults.inject("status", status=503, times=1)
    api.fetch(provider, order_id)

    first, retry, second = client_records(client_logs)
    assert (first.levelno, retry.levelno, second.levelno) == (
        logging.DEBUG, logging.INFO, logging.DEBUG)
    assert set(fields(first)) == set(fields(second)) == REQUEST_FIELDS
    assert set(fields(retry)) == RETRY_FIELDS
    for record in (first, retry, second):
        assert record.orderstatus_provider == provider
        assert record.orderstatus_order_id == order_id
        assert record.orderstatus_method == "GET"
        assert record.orderstatus_url.startswith(url)
        assert order_id in record.orderstatus_url
        assert record.orderstatus_exchange_id == first.orderstatus_exchange_id
    assert [first.orderstatus_attempt, retry.orderstatus_attempt, second.orderstatus_attempt] \
        == [1, 1, 2]
    assert (first.orderstatus_event, retry.orderstatus_event) == ("request", "retry")
    assert (first.orderstatus_status, second.orderstatus_status) == (503, 200)
    assert first.orderstatus_error is None
    assert first.orderstatus_duration_ms > 0
    assert retry.orderstatus_reason == "provider answered 503 service unavailable"
    assert retry.orderstatus_wait_s == api.sleeps[0]
    assert first.getMessage() == (
        f"{provider} GET {first.orderstatus_url} (attempt 1): 503 in "
        f"{first.orderstatus_duration_ms:.1f} ms")
    assert retry.getMessage().endswith(
        f"(attempt 1) failed: provider answered 503 service unavailable; retrying in "
        f"{api.sleeps[0]:.2f} s")

    # the hook heard the same attempts, in order
    assert [type(e) for e in events] == [
        RequestSent, RequestFinished, RetryScheduled, RequestSent, RequestFinished]
    sent, finished, scheduled, _, answered = events
    assert (sent.provider, sent.order_id, sent.method, sent.url, sent.attempt) == (
        provider, order_id, "GET", first.orderstatus_url, 1)
    assert isinstance(finished, RequestFinished) and isinstance(answered, RequestFinished)
    assert (finished.status, finished.error, answered.status, answered.attempt) == (
        503, None, 200, 2)
    assert finished.duration * 1000 == pytest.approx(first.orderstatus_duration_ms, abs=0.001)
    assert isinstance(scheduled, RetryScheduled)
    assert (scheduled.reason, scheduled.wait) == (retry.orderstatus_reason, api.sleeps[0])
    assert {e.exchange_id for e in events} == {first.orderstatus_exchange_id}


def test_an_attempt_without_answer_reports_its_error(
    served: Served, provider: str, client_logs: pytest.LogCaptureFixture
) -> None:
    sandbox, api, events, _ = served
    order_id = sandbox.create_order()
    api.fetch(provider, order_id)  # any token request is behind us
    events.clear()
    client_logs.clear()
    sandbox.faults.inject("reset", times=1)
    api.fetch(provider, order_id)
    finished = [e for e in events if isinstance(e, RequestFinished)]
    assert [(e.status, e.attempt) for e in finished] == [(None, 1), (200, 2)]
    assert finished[0].error is not None and finished[0].error.endswith("Error")
    first = client_records(client_logs)[0]
    assert (first.orderstatus_status, first.orderstatus_error) == (None, finished[0].error)
    assert f"(attempt 1): {finished[0].error} in " in first.getMessage()


@contextlib.contextmanager
def _token_served(kind: str, settings: Callable[[Sandbox, str], dict[str, Any]] | None = None
                  ) -> Iterator[Served]:
    sandbox = new_sandbox("printapi")
    events: list[RequestEvent] = []
    with serve(sandbox.asgi()) as url:
        given = sandbox.settings(url) if settings is None else settings(sandbox, url)
        api = Api(kind, {"printapi": given}, on_event=events.append)
        yield sandbox, api, events, url
        api.close()


def _by_exchange(events: list[RequestEvent]) -> dict[int, list[RequestEvent]]:
    grouped: dict[int, list[RequestEvent]] = {}
    for event in events:
        grouped.setdefault(event.exchange_id, []).append(event)
    return grouped


def _assert_no_secret(sandbox: Sandbox, url: str, events: list[RequestEvent],
                      records: list[logging.LogRecord]) -> None:
    shown = [repr(e) for e in events] + [f"{r.getMessage()} {fields(r)!r}" for r in records]
    assert_clean(shown, credentials("printapi", sandbox.settings(url)))


def test_a_token_request_is_reported_as_a_request_of_its_own(
    kind: str, client_logs: pytest.LogCaptureFixture
) -> None:
    with _token_served(kind) as (sandbox, api, events, url):
        order_id = sandbox.create_order()
        api.fetch("printapi", order_id)
        api.fetch("printapi", order_id)  # the token is cached: no token request
    assert [(type(e), e.method) for e in events] == [
        (RequestSent, "GET"), (RequestSent, "POST"), (RequestFinished, "POST"),
        (RequestFinished, "GET"), (RequestSent, "GET"), (RequestFinished, "GET")]
    fetch, token, again = _by_exchange(events).values()
    assert len({fetch[0].exchange_id, token[0].exchange_id, again[0].exchange_id}) == 3
    sent, finished = token
    assert isinstance(finished, RequestFinished)
    assert (sent.provider, sent.order_id, sent.url, sent.attempt) == (
        "printapi", order_id, f"{url}v2/oauth", 1)
    assert (finished.status, finished.error) == (200, None)
    assert finished.duration > 0
    records = client_records(client_logs)
    assert [r.orderstatus_method for r in records] == ["POST", "GET", "GET"]
    record = records[0]
    assert set(fields(record)) == REQUEST_FIELDS
    assert (record.orderstatus_event, record.orderstatus_url, record.orderstatus_attempt,
            record.orderstatus_status, record.orderstatus_exchange_id,
            record.orderstatus_order_id) == (
        "request", f"{url}v2/oauth", 1, 200, token[0].exchange_id, order_id)
    assert record.orderstatus_duration_ms == round(finished.duration * 1000, 3)
    assert record.getMessage() == (
        f"printapi POST {url}v2/oauth (attempt 1): 200 in "
        f"{record.orderstatus_duration_ms:.1f} ms")
    _assert_no_secret(sandbox, url, events, records)


def test_a_refused_token_request_is_reported_with_its_status(
    kind: str, client_logs: pytest.LogCaptureFixture
) -> None:
    refused = _token_served(kind, lambda sandbox, url: wrong("printapi", sandbox.settings(url)))
    with refused as (sandbox, api, events, url), pytest.raises(AuthenticationError):
        api.fetch("printapi", sandbox.create_order())
    token, fetch = (events[i] for i in (2, 3))
    assert isinstance(token, RequestFinished) and isinstance(fetch, RequestFinished)
    assert (token.method, token.status, token.error) == ("POST", 401, None)
    assert (fetch.method, fetch.status, fetch.error) == ("GET", None, "AuthenticationError")
    _assert_no_secret(sandbox, url, events, client_records(client_logs))


def test_a_token_request_without_answer_reports_its_error(
    kind: str, client_logs: pytest.LogCaptureFixture
) -> None:
    with _token_served(kind) as (sandbox, api, events, url):
        sandbox.faults.inject("reset", times=1)  # the first request: the token request
        api.fetch("printapi", sandbox.create_order())
    finished = [e for e in events if isinstance(e, RequestFinished)]
    assert [(e.method, e.attempt, e.status) for e in finished] == [
        ("POST", 1, None), ("GET", 1, None), ("POST", 1, 200), ("GET", 2, 200)]
    assert finished[0].error is not None and finished[0].error == finished[1].error
    assert [type(e) for e in events].count(RetryScheduled) == 1
    assert len(_by_exchange(events)) == 3  # the fetch, and a token request for each attempt
    _assert_no_secret(sandbox, url, events, client_records(client_logs))


def test_an_update_reports_every_request_of_the_call(kind: str) -> None:
    sandbox = new_sandbox("gooten")  # Print API has no status update
    events: list[RequestEvent] = []
    api = Api(kind, {"gooten": sandbox.settings(LOCAL)}, transport=sandbox.transport(),
              on_event=events.append)
    order_id = sandbox.create_order()
    api.update("gooten", order_id, "cancelled")
    api.close()
    finished = [e for e in events if isinstance(e, RequestFinished)]
    assert [e.method for e in finished] == ["GET", "POST", "GET"]  # fetch, update, confirm
    assert [e.status for e in finished] == [200, 200, 200]
    assert {e.order_id for e in finished} == {order_id}
    assert len({e.exchange_id for e in finished}) == 3  # three requests, one attempt each


def test_fetch_many_tells_each_request_apart(kind: str, sandbox: FakeshopSandbox) -> None:
    events: list[RequestEvent] = []
    api = Api(kind, {"fakeshop": sandbox.settings(LOCAL + "v1/")},
              transport=sandbox.transport(), on_event=events.append)
    ids = [sandbox.create_order() for _ in range(3)]
    api.fetch_many([("fakeshop", i) for i in ids])
    api.close()
    by_exchange: dict[int, list[RequestEvent]] = {}
    for event in events:
        by_exchange.setdefault(event.exchange_id, []).append(event)
    assert len(by_exchange) == 3
    for attempts in by_exchange.values():
        assert [type(e) for e in attempts] == [RequestSent, RequestFinished]
    assert {e.order_id for e in events} == set(ids)


def test_urls_are_scrubbed_as_errors_show_them(
    kind: str, sandbox: FakeshopSandbox, client_logs: pytest.LogCaptureFixture
) -> None:
    events: list[RequestEvent] = []
    base = LOCAL + "v1/"
    api = Api(kind, {"fakeshop": sandbox.settings(base)}, transport=sandbox.transport(),
              on_event=events.append)
    request = httpx.Request("GET", f"{base}orders/none",
                            params={"api_token": "t0ken-value", "echo": API_KEY})
    with pytest.raises(OrderNotFoundError) as caught:
        api.send("fakeshop", request, order_id="none")
    api.close()
    assert caught.value.url is not None
    assert caught.value.url.startswith(f"{base}orders/none?api_token=")
    assert_clean([caught.value.url], {"t0ken-value", *credentials("fakeshop", sandbox.settings(
        base))})
    assert {e.url for e in events} == {caught.value.url}
    assert {r.orderstatus_url for r in client_records(client_logs)} == {caught.value.url}


@pytest.mark.parametrize("provider", SANDBOXED)
def test_no_credential_in_any_record_or_event(
    provider: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Every way a call can go (the credentials suite's scenarios), with every provider's
    credential flow: Print API's OAuth token request, Gooten's billing key on updates,
    fakeshop's key in the query."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "orderstatus"):
        caplog.set_level(logging.DEBUG, logger=name)
    sandbox = new_sandbox(provider)
    events: list[RequestEvent] = []
    with serve(sandbox.asgi()) as url:
        api = Api(kind, {provider: sandbox.settings(url)}, timeout=2.0, on_event=events.append)
        run_all(api, sandbox, provider)
        api.close()
    records = client_records(caplog)
    assert {type(e) for e in events} == {RequestSent, RequestFinished, RetryScheduled}
    assert {r.levelno for r in records} == {logging.DEBUG, logging.INFO}
    shown = [repr(e) for e in events]
    shown += [f"{r.getMessage()} {fields(r)!r}" for r in records]
    assert_clean(shown, credentials(provider, sandbox.settings(url)))


def test_a_failing_hook_never_fails_the_call(
    kind: str, sandbox: FakeshopSandbox, client_logs: pytest.LogCaptureFixture
) -> None:
    heard: list[RequestEvent] = []

    def hook(event: RequestEvent) -> None:
        heard.append(event)
        raise RuntimeError("the hook is broken")

    api = Api(kind, {"fakeshop": sandbox.settings(LOCAL + "v1/")},
              transport=sandbox.transport(), on_event=hook)
    order_id = sandbox.create_order()
    sandbox.faults.inject("status", status=503, times=1)
    assert api.fetch("fakeshop", order_id).order_id == order_id
    assert api.fetch("fakeshop", order_id).order_id == order_id
    api.close()
    assert len(heard) == 7  # sent, finished, retry, sent, finished; then sent, finished
    complaints = [r for r in client_records(client_logs) if "on_event hook" in r.getMessage()]
    assert [r.levelno for r in complaints] == [logging.WARNING] + [logging.DEBUG] * 6
    assert complaints[0].exc_info is not None
    assert "RuntimeError: the hook is broken" in client_logs.text


def test_on_event_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="on_event must be callable, not str"):
        Client({}, on_event="print")  # type: ignore[arg-type]


def test_nobody_listening_means_no_record(
    kind: str, sandbox: FakeshopSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    api = Api(kind, {"fakeshop": sandbox.settings(LOCAL + "v1/")}, transport=sandbox.transport())
    order_id = sandbox.create_order()
    sandbox.faults.inject("status", status=503, times=1)
    api.fetch("fakeshop", order_id)
    api.close()
    assert client_records(caplog) == []


WARNS = textwrap.dedent("""
    import logging, sys
    import orderstatus
    from orderstatus.plugins import Registry

    class Misspelt:
        @orderstatus.hookimpl
        def orderstatus_register_provider(self, register):
            pass

    def warn():  # orderstatus logs a warning for a plugin it disables
        registry = Registry()
        registry.add_plugin(Misspelt(), "misspelt")
        assert registry.failures, "the plugin was disabled"

    warn()
    print("silent so far", file=sys.stderr)
    logging.getLogger("orderstatus").handlers.clear()  # as before the NullHandler
    warn()
""")


def test_an_application_without_logging_set_up_prints_no_warning() -> None:
    done = subprocess.run([sys.executable, "-c", WARNS], capture_output=True, text=True,
                          check=True, timeout=60)
    silent, _, bare = done.stderr.partition("silent so far\n")
    assert silent == ""
    assert "orderstatus plugin 'misspelt' disabled" in bare  # logging's last resort, without it


def test_the_observability_page_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON formatter writes the documented fields; the span hook makes OpenTelemetry
    spans, children of the caller's span, with the retry on it."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tests.test_docs_examples import _run

    exporter = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracing)  # once in a process: only this test sets one
    library = logging.getLogger("orderstatus")
    level, handlers = library.level, list(library.handlers)
    try:
        _run("observability.md")
    finally:
        library.setLevel(level)
        library.handlers[:] = handlers

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    first, retry, second = lines[:3]  # the first fetch; the traced one follows
    assert (first["level"], retry["level"], second["level"]) == ("DEBUG", "INFO", "DEBUG")
    assert set(first) - {"time", "level", "logger", "message"} == REQUEST_FIELDS
    assert set(retry) - {"time", "level", "logger", "message"} == RETRY_FIELDS
    assert (first["orderstatus_status"], second["orderstatus_status"]) == (429, 200)
    assert retry["orderstatus_wait_s"] == 0

    spans = exporter.get_finished_spans()
    refresh = next(s for s in spans if s.name == "refresh order")
    attempts = [s for s in spans if s.name == "GET"]
    assert [s.attributes["http.response.status_code"] for s in attempts] == [503, 200]
    assert [s.status.status_code for s in attempts] == [trace.StatusCode.ERROR,
                                                        trace.StatusCode.UNSET]
    assert attempts[1].attributes["http.request.resend_count"] == 1
    assert all(s.kind is trace.SpanKind.CLIENT for s in attempts)
    assert all(s.parent is not None and s.parent.span_id == refresh.context.span_id
               for s in attempts)
    assert [e.name for e in refresh.events] == ["orderstatus.retry"]
    assert attempts[0].end_time <= attempts[1].start_time


def test_the_documented_fields_are_the_fields() -> None:
    page = (Path(__file__).parents[1] / "docs" / "observability.md").read_text()
    assert set(re.findall(r"`(orderstatus_\w+)`", page)) == set(FIELDS)
