"""The provider on its own (no HTTP): settings, registration, timestamps, parsing."""

from __future__ import annotations

import datetime as dt
import json
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from orderstatus_printapi import (
    PrintApiProvider,
    PrintApiSandbox,
    PrintApiSettings,
    format_provider_time,
    item_status,
    parse_provider_time,
)
from orderstatus_printapi.feed import next_cursor
from orderstatus_printapi.timestamps import PROVIDER_ZONE

from orderstatus import Client, Secret, default_registry
from orderstatus.errors import ConfigurationError, ResponseFormatError

UTC = dt.timezone.utc
DOCS = Path(__file__).resolve().parents[3] / "docs" / "providers" / "printapi.md"
ORDER = {"id": "83432183", "status": "Created", "dateTime": "2015-10-21T12:53:06.9931422",
         "items": [{"id": "a1", "productId": "poster", "quantity": 1}], "extra": {"x": 1}}


def provider(**settings):
    return PrintApiProvider(PrintApiSettings(**{"client_id": "id", "client_secret": "s3cret",
                                                **settings}))


def answer(data, status=200):
    content = data if isinstance(data, bytes) else json.dumps(data).encode()
    return httpx.Response(status, content=content, headers={"content-type": "application/json"})


# -- settings and registration ---------------------------------------------------------------


def test_base_url_follows_the_environment():
    assert str(provider().base_url) == "https://test.printapi.nl/v2/"
    assert str(provider(environment="live").base_url) == "https://live.printapi.nl/v2/"
    custom = provider(environment="live", base_url="https://proxy.example/printapi")
    assert str(custom.base_url) == "https://proxy.example/printapi/"


def test_settings_from_the_environment():
    environ = {
        "ORDERSTATUS_PRINTAPI_CLIENT_ID": "acme",
        "ORDERSTATUS_PRINTAPI_CLIENT_SECRET": "s3cret-value",
        "ORDERSTATUS_PRINTAPI_ENVIRONMENT": "live",
    }
    with Client.from_env(environ) as client:
        settings = client.provider("printapi").settings
        assert (settings.client_id, settings.client_secret, settings.environment) == (
            "acme", Secret("s3cret-value"), "live"
        )
        assert str(client.provider("printapi").base_url) == "https://live.printapi.nl/v2/"
    environ["ORDERSTATUS_PRINTAPI_BASE_URL"] = "http://127.0.0.1:9/v2/"
    with Client.from_env(environ) as client:
        assert str(client.provider("printapi").base_url) == "http://127.0.0.1:9/v2/"


@pytest.mark.parametrize(("settings", "problem"), [
    ({"client_id": "a", "client_secret": "b", "environment": "prod"}, "environment"),
    ({"client_id": "a"}, "client_secret"),
    ({"client_id": "a", "client_secret": ""}, "invalid"),
    ({"client_id": "a", "client_secret": "b", "base_url": "http://printapi.example/"}, "http"),
    ({"client_id": "a", "client_secret": "b", "token": "c"}, "token"),
])
def test_bad_settings_are_refused(settings, problem):
    with pytest.raises(ConfigurationError, match=problem):
        Client({"printapi": settings})


def test_settings_never_show_the_secret():
    settings = PrintApiSettings("id", "s3cret-value")
    assert "s3cret-value" not in repr(settings) + str(settings)
    assert provider().secrets() == ("s3cret",)


def test_registered_through_the_entry_point_with_its_sandbox():
    (point,) = [p for p in entry_points(group="orderstatus") if p.name == "printapi"]
    assert point.value == "orderstatus_printapi.plugin"
    registration = default_registry().registration("printapi")
    assert registration.provider is PrintApiProvider
    assert isinstance(registration.sandbox(), PrintApiSandbox)


def test_capabilities_and_tables():
    assert PrintApiProvider.update_rules is None
    caps = PrintApiProvider.capabilities
    assert (caps.fetch, caps.update, caps.webhook, caps.feed) == (True, False, True, True)
    sources = ("statuses page", "PaymentStatus model", "v2 reference", "recorded", "SDK enums")
    for native, mapped in PrintApiProvider.native_statuses.items():
        assert any(source in mapped.note for source in sources), native


def test_the_docs_page_generates_its_tables_from_the_plugin():
    page = DOCS.read_text()
    for marker in ("capabilities", "native-statuses", "payment-statuses", "update-rules"):
        assert f"\n<!-- orderstatus:{marker} printapi -->\n" in page
    # no table row is retyped in the page: every status row comes from the markers
    for native in [*PrintApiProvider.native_statuses, *PrintApiProvider.payment_statuses]:
        assert f"| `{native}`" not in page, native
    for variable in ("CLIENT_ID", "CLIENT_SECRET", "ENVIRONMENT", "BASE_URL"):
        assert f"ORDERSTATUS_PRINTAPI_{variable}" in page


# -- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2015-10-21T12:53:06.9931422", dt.datetime(2015, 10, 21, 10, 53, 6, 993142, tzinfo=UTC)),
    ("2026-01-15T12:00:00", dt.datetime(2026, 1, 15, 11, 0, tzinfo=UTC)),
    ("2026-01-15T12:00:00.5", dt.datetime(2026, 1, 15, 11, 0, 0, 500000, tzinfo=UTC)),
    ("2026-07-01T12:00:00.123", dt.datetime(2026, 7, 1, 10, 0, 0, 123000, tzinfo=UTC)),
    ("2026-07-01T12:00:00Z", dt.datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),
    ("2026-07-01T12:00:00.1234567+05:30", dt.datetime(2026, 7, 1, 6, 30, 0, 123456, tzinfo=UTC)),
    ("2026-07-01 12:00:00-0100", dt.datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),
])
def test_timestamps_without_zone_are_amsterdam_time(text, expected):
    assert parse_provider_time(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-01-15", "2026-13-01T00:00:00",
                                  "2026-01-15T12:00", "2026-01-15T12:00:00 CET"])
def test_bad_timestamps_are_refused(text):
    with pytest.raises(ValueError):  # noqa: PT011 - the message is not the point
        parse_provider_time(text)


@pytest.mark.parametrize(("moment", "text"), [
    (dt.datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC), "2026-03-29T03:30:00.123456"),
    (dt.datetime(2025, 3, 29, 20, 40, 20, 300000, tzinfo=UTC), "2025-03-29T21:40:20.3"),
    (dt.datetime(2025, 3, 29, 20, 40, 20, tzinfo=UTC), "2025-03-29T21:40:20"),
])
def test_timestamps_are_written_as_print_api_writes_them(moment, text):
    """Trailing zeros left out, as in the recorded ``…20.003`` and ``…20.3``."""
    assert format_provider_time(moment) == text
    assert parse_provider_time(text) == moment


@given(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_timestamps_round_trip(moment):
    """Except in the hour that repeats when summer time ends: there the earlier is read."""
    back = parse_provider_time(format_provider_time(moment))
    local = moment.astimezone(PROVIDER_ZONE)
    repeated = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    earlier = repeated and local.fold == 1 and moment - back == dt.timedelta(hours=1)
    assert back == moment or earlier


# -- parsing ---------------------------------------------------------------------------------


def test_parse_fetch():
    parsed = provider().parse_fetch("83432183", answer(ORDER))
    assert (parsed.native_status, parsed.native_payment, parsed.tracking) == (None, None, ())
    assert [(i.item_id, i.native_status) for i in parsed.items] == [("a1", "Created")]
    assert parsed.provider_time is None  # dateTime is when the order was placed
    assert parsed.raw == ORDER


def test_an_order_without_items_shows_its_own_status():
    parsed = provider().parse_fetch("83432183", answer({**ORDER, "items": [],
                                                        "checkout": {"status": "Failed"}}))
    assert (parsed.native_status, parsed.items) == ("Failed", ())


def test_numeric_ids_are_accepted():
    parsed = provider().parse_fetch("7", answer({**ORDER, "id": 7, "items": [{"id": 12}]}))
    assert parsed.items[0].item_id == "12"


@pytest.mark.parametrize(("change", "problem"), [
    ({"status": 3}, r"\$\.status"),
    ({"status": None}, r"\$\.status"),
    ({"items": {"id": "a"}}, r"\$\.items"),
    ({"items": [{"sku": "x"}]}, r"\$\.items\[0\]\.id"),
    ({"checkout": {"status": 1}}, r"\$\.checkout\.status"),
    ({"checkout": "Open"}, r"\$\.checkout"),
    ({"items": [{"id": "a", "files": "x.pdf"}]}, r"\$\.items\[0\]\.files"),
    ({"items": [{"id": "a", "files": {"content": []}}]}, r"\$\.items\[0\]\.files\.content"),
    ({"items": [{"id": "a", "files": {"cover": {"status": 5}}}]},
     r"\$\.items\[0\]\.files\.cover\.status"),
    ({"trackingUrl": ["x"]}, r"\$\.trackingUrl"),
    ({"id": "1234"}, "answer is about order '1234'"),
    ({"id": True}, r"\$\.id"),
])
def test_bad_shapes_are_format_errors(change, problem):
    with pytest.raises(ResponseFormatError, match=problem):
        provider().parse_fetch("83432183", answer({**ORDER, **change}))


@pytest.mark.parametrize("body", [b"[1, 2]", b"\"Created\"", b"{\"id\": ", b"<html>"])
def test_non_objects_are_format_errors(body):
    with pytest.raises(ResponseFormatError, match="answer"):
        provider().parse_fetch("83432183", answer(body))


def test_the_feed_cursor_is_just_before_the_newest_entry_not_the_echoed_since():
    data = {"since": "2026-01-01T08:00:00",
            "results": [{"id": "1", "status": "Created", "dateTime": "2026-01-01T09:00:00"},
                        {"id": 2, "status": "Shipped", "dateTime": "2026-01-01T11:00:00.5"},
                        {"id": "3", "status": "Processing", "dateTime": "2026-01-01T10:00:00"}]}
    orders, cursor = provider().parse_feed("2026-01-01T08:00:00", answer(data))
    assert cursor == "2026-01-01T11:00:00.499999"
    assert [(o.order_id, o.native_status, o.raw) for o in orders] == [
        ("1", "Created", data["results"][0]), ("2", "Shipped", data["results"][1]),
        ("3", "Processing", data["results"][2]),
    ]
    assert provider().parse_feed("x", answer({"since": "x", "results": []})) == ((), "x")
    assert provider().parse_feed(None, answer({"since": None, "results": []})) == ((), None)


def test_a_feed_entry_without_a_date_is_a_format_error():
    data = {"results": [{"id": "1", "status": "Created"}]}
    with pytest.raises(ResponseFormatError, match=r"\$\.results\[0\]\.dateTime"):
        provider().parse_feed(None, answer(data))


_INSTANTS = st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2090, 1, 1),
                         timezones=st.just(UTC))


@given(since=st.none() | _INSTANTS.map(format_provider_time) | st.text(max_size=12),
       read=st.lists(_INSTANTS, max_size=6))
def test_feed_cursor_laws(since, read):
    """Never back; strictly before the newest entry read (so it is read again, not skipped)
    when that is past ``since``; ``since`` itself otherwise; re-reading the same entries from
    the cursor gives the same cursor (where a reader stops)."""
    cursor = next_cursor(since, read)
    try:
        asked = parse_provider_time(since) if since is not None else None
    except ValueError:
        asked = None
    if not read:
        assert cursor == since
        return
    assert cursor is not None
    moment = parse_provider_time(cursor)
    if asked is not None:
        assert moment >= asked
    if asked is None or max(read) - dt.timedelta(microseconds=1) > asked:
        assert max(read) - moment == dt.timedelta(microseconds=1)
    else:
        assert cursor == since
    again = [r for r in read if r > moment]
    assert next_cursor(cursor, again) == cursor


def test_requests_are_built_under_the_base_url():
    printapi = provider()
    assert str(printapi.build_fetch("83432183").url) == "https://test.printapi.nl/v2/orders/83432183"
    feed = printapi.build_feed("2026-01-01T10:00:00.0000000")
    assert feed.url.path == "/v2/sync/statuses"
    assert feed.url.params["since"] == "2026-01-01T10:00:00.0000000"
    # every recorded request carries since: a first read asks from before any order
    assert printapi.build_feed(None).url.params["since"] == "2000-01-01T00:00:00"


@pytest.mark.parametrize(("order", "payment", "files", "shown"), [
    ("Processing", "Failed", ["DownloadFailed"], "Processing"),  # past Created: the order's
    ("shipped", None, ["AwaitingUpload"], "shipped"),
    ("Created", None, ["DownloadPending", "Accepted"], "Created"),
    ("Created", "Open", ["Accepted", None], "Created"),
    ("created", "Failed", ["Accepted"], "Failed"),
    ("Created", "failed", [None, "AwaitingUpload"], "AwaitingUpload"),  # its own file first
    ("Created", None, ["DownloadFailed", "AwaitingUpload"], "DownloadFailed"),  # content first
    ("Created", "Failed", ["Checking"], "Failed"),  # a known stop before an unknown status
    ("Created", "Open", ["Accepted", "Checking"], "Checking"),  # unknown: shown, reads unknown
    ("Created", "Successful", [], "Created"),
])
def test_the_status_an_item_shows(order, payment, files, shown):
    assert item_status(order, payment, files) == shown
