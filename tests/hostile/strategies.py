"""Hypothesis strategies for hostile input: ids, JSON of any shape, webhook parts."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

NASTY_IDS = (
    "", ".", "..", "../admin", "..%2fadmin", "a/b", "/abs", "a?b=c", "a#frag", "a&key=x",
    "a%2Fb", "a\\b", "a b", " lead", "trail ", "tab\tid", "new\nline", "nul\x00", "\x7f",
    "\u202eltr", "\u200bzero", "\ufeffbom", "x" * 128, "x" * 129, "x" * 10_000,
    "http://evil.example/", "//evil.example/x", "@evil.example", "user:pass@host", "a;b",
    "a:b", "mailto:x", "ﬁ", "\uff11\uff12\uff13", "İ", "ß", "😀", "%", "%00", "%2e%2e", "~", "*",
    "{id}", "${jndi:x}", "' OR 1=1 --", "<script>", "?", "#", "&", "=", "+", "\r\n\r\nX: y",
    # Unicode look-alikes: what a path-normalizing server (NFKC) reads as / ? # \\ % and ..
    "a\uff0fb", "\uff0e\uff0e\uff0fadmin", "\u2025", "a\uff1fkey=x", "a\uff03f", "a\uff3cb",
    "\uff05\u0032\u0066", "\ufe56", "\u2100", "x\u2026", "\uff0e",
)
KEYS = ("order", "orderId", "orderid", "OrderId", "id", "Id", "order_id", "Items", "status",
        "Status", "results", "since", "data", "error", "errors", "items", "key")

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
"""Any JSON document, keys biased towards the ones providers use."""

order_ids = st.one_of(
    st.sampled_from(NASTY_IDS), st.text(max_size=150),
    st.text(st.characters(codec="ascii"), min_size=1, max_size=40),
)
not_strings = st.one_of(st.none(), st.integers(), st.binary(max_size=8), st.lists(st.text()))

bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8),
                    st.sampled_from(NASTY_IDS) | st.text(max_size=20), max_size=4)
    .map(lambda d: urlencode(d).encode()),
    order_ids.map(lambda i: json.dumps({"order": i}).encode()),
    order_ids.map(lambda i: urlencode({"orderId": i}).encode()),
)
"""Notification bodies: bytes, JSON and forms, some carrying hostile ids where ids go."""

content_types = st.sampled_from((
    "application/json", "application/x-www-form-urlencoded", "text/plain", "",
    "application/json; charset=utf-8", "multipart/form-data; boundary=x", "APPLICATION/JSON",
    "application/x-www-form-urlencoded; charset=latin-1", "*/*", "application/json\x00",
))
header_text = st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"),
                      max_size=40)
headers = st.dictionaries(
    st.sampled_from(("x-signature", "authorization", "content-length", "user-agent",
                     "x-request-id", "content-encoding", "transfer-encoding"))
    | st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12),
    header_text, max_size=4,
).flatmap(lambda h: content_types.map(lambda c: {**h, "content-type": c}))
"""Notification headers, always with some content type."""

queries = st.one_of(
    st.dictionaries(st.sampled_from(("orderid", "OrderId", "ORDERID", "id", "order")) |
                    st.text(max_size=8), order_ids, max_size=3),
    st.text(max_size=60),
    order_ids.map(lambda i: f"orderid={i}&orderid=x"),
)
"""Notification query strings: mappings and raw strings, duplicates included."""
