"""Order-id and base-URL checks every provider inherits, and answers as raw payloads."""

from __future__ import annotations

import json
import sqlite3
import string
import unicodedata
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstatus import (
    ConfigurationError,
    InvalidOrderIdError,
    OrderState,
    OrderStatus,
    check_order_id,
)
from orderstatus.models import RawPayload
from orderstatus.plugins import Registry
from orderstatus.provider import _allowed_in_id, check_base_url
from orderstatus.stores import SQLiteStore
from orderstatus.testing.generic import GenericProvider, GenericSettings
from orderstatus.tracking import Tracker

SAFE = st.text(string.ascii_letters + string.digits + "-_.:~@+=", min_size=1, max_size=128)


@given(SAFE.filter(lambda s: ".." not in s and s != "."))
def test_safe_ids_pass_unchanged(order_id: str) -> None:
    assert check_order_id(order_id) == order_id


@given(st.text(max_size=40), st.sampled_from(list("/?#\\% \t\n\r\x00\x7f\u2028")),
       st.text(max_size=40))
def test_ids_with_url_changing_characters_are_refused(before: str, bad: str, after: str) -> None:
    with pytest.raises(InvalidOrderIdError):
        check_order_id(before + bad + after, provider="p")


@given(st.one_of(st.integers(), st.none(), st.binary(), st.floats()))
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidOrderIdError, match="must be a string"):
        check_order_id(value)


def test_length_bounds() -> None:
    assert check_order_id("x" * 128) == "x" * 128
    for bad in ("", "x" * 129):
        with pytest.raises(InvalidOrderIdError, match="1 to 128 characters"):
            check_order_id(bad)


def test_long_ids_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidOrderIdError) as caught:
        check_order_id("a" * 100 + "/")
    assert len(str(caught.value)) < 120


LOOK_ALIKES = "\uff0f\uff1f\uff03\uff3c\uff05\ufe56\ufe5f\ufe68\ufe6a\ufe16\u2047\u2100\u00a8"
"""Fullwidth, small and other forms whose NFKC form holds ``/ ? # \\ %`` or a space."""


@given(st.text(max_size=20), st.sampled_from(LOOK_ALIKES), st.text(max_size=20))
def test_look_alikes_of_forbidden_characters_are_refused(
    before: str, alike: str, after: str
) -> None:
    with pytest.raises(InvalidOrderIdError, match="forbidden character"):
        check_order_id(before + alike + after, provider="p")


@pytest.mark.parametrize("order_id", ["\uff0e", "\uff0e\uff0e", "a\uff0e.b", "\u2025",
                                      "x\u2026", "\ufe52\ufe52", "1\u2488."])
def test_dots_that_normalize_to_dot_dot_are_refused(order_id: str) -> None:
    with pytest.raises(InvalidOrderIdError, match=r"holds '\.\.' once normalized"):
        check_order_id(order_id)


@pytest.mark.parametrize("order_id", ["a\uff0eb", "\uff11\uff12\uff13", "\ufb01", "\u2488"])
def test_other_compatibility_characters_pass(order_id: str) -> None:
    assert check_order_id(order_id) == order_id


@given(st.text(st.characters(exclude_categories=("Cs",)) | st.sampled_from(
    [*LOOK_ALIKES, ".", "\uff0e", "\u2025", "\u2024"]), min_size=1, max_size=30))
def test_an_accepted_id_stays_accepted_once_normalized(order_id: str) -> None:
    try:
        check_order_id(order_id)
    except InvalidOrderIdError:
        return
    assert check_order_id(unicodedata.normalize("NFKC", order_id), max_length=10_000)


@pytest.mark.parametrize("url", ["https://api.example/v1", "http://127.0.0.1:9/", "http://localhost/x/"])
def test_good_base_urls(url: str) -> None:
    assert str(check_base_url(url, provider="p")).endswith("/")


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://api.example/", "file:///etc/",
                                 "https:///nohost", "not a url at all", "https://u:p@h.example/"])
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        check_base_url(url, provider="p")


# -- answers as raw payloads ---------------------------------------------------------------

def provider() -> GenericProvider:
    return GenericProvider(GenericSettings(base_url="http://127.0.0.1/"))


ANSWER = '{\n  "id": "A1",\n  "status": "Shipped",\n  "note": "\u00e9t\u00e9 \U0001f4e6"\n}'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-8-sig"])
def test_a_json_object_keeps_the_text_it_was_parsed_from(encoding: str) -> None:
    answer = httpx.Response(200, content=ANSWER.encode(encoding))
    data = provider().json("A1", answer)
    assert isinstance(data, RawPayload)
    assert data == json.loads(ANSWER)
    assert data.text == ANSWER  # as it arrived (pretty-printed), decoded as json.loads would
    assert json.loads(data.text) == data


def test_other_json_is_returned_as_parsed() -> None:
    assert provider().json(None, httpx.Response(200, content=b"[1, 2]")) == [1, 2]
    # A lone surrogate (an encoded one, which json.loads lets through) cannot be kept as
    # text in UTF-8: the payload is a plain dict, written out again when stored.
    data = provider().json("A1", httpx.Response(200, content=b'{"a": "\xed\xa0\x80"}'))
    assert type(data) is dict
    assert data == {"a": "\ud800"}


def test_a_stored_payload_is_kept_as_it_arrived(tmp_path: Path) -> None:
    raw = provider().json("A1", httpx.Response(200, content=ANSWER.encode()))
    status = OrderStatus("generic", "A1", OrderState.SHIPPED, "Shipped", raw=raw)
    with SQLiteStore(tmp_path / "s.sqlite3") as store:
        Tracker(store, registry=Registry()).observe(status)
        current = store.current("generic", "A1")
    assert current is not None and current.raw == raw
    db = sqlite3.connect(tmp_path / "s.sqlite3")
    assert db.execute("SELECT raw FROM history").fetchall() == [(ANSWER,)]
    db.close()


@given(st.text(st.characters(max_codepoint=0x7F), min_size=1, max_size=128))
def test_ascii_ids_get_the_verdict_of_the_per_character_rule(order_id: str) -> None:
    """Plain ASCII ids skip the Unicode scan; the verdict is the scan's all the same."""
    expected = all(_allowed_in_id(c) for c in order_id) and ".." not in order_id
    expected = expected and order_id != "."
    try:
        check_order_id(order_id)
    except InvalidOrderIdError:
        assert not expected
    else:
        assert expected


def test_urls_can_end_in_a_slash() -> None:
    url = provider().url("v", "5", "orders", params={"id": "a b/c"}, trailing_slash=True)
    assert str(url) == "http://127.0.0.1/v/5/orders/?id=a%20b%2Fc"
