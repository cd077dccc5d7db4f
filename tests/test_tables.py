"""Tables built from the core's own data, and their Markdown, text and record renderings."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import attrs
import httpx
import markdown  # type: ignore[import-untyped]
import pytest

from orderstatus import (
    ActionReason,
    Capabilities,
    NativeStatus,
    OrderState,
    ParsedOrder,
    PaymentState,
    Provider,
    UpdateRules,
    lifecycle,
    tables,
)


@attrs.frozen
class _Settings:
    base_url: str | None = None


class Acme(Provider):
    """A provider with every kind of table: statuses, payments, update rules."""

    name = "acme"
    title = "Acme Print"
    settings_class = _Settings
    default_base_url = "https://acme.invalid/"
    native_statuses: ClassVar[dict[str, NativeStatus]] = {
        "Open": NativeStatus(OrderState.CREATED, note="waiting for files"),
        "Held": NativeStatus(OrderState.ON_HOLD),
        "BadAddress": NativeStatus(OrderState.ACTION_REQUIRED, ActionReason.ADDRESS,
                                   note="the customer must fix the address"),
        "Printing": NativeStatus(OrderState.IN_PRODUCTION),
        "Posted": NativeStatus(OrderState.SHIPPED),
        "Void": NativeStatus(OrderState.CANCELLED),
    }
    payment_statuses: ClassVar[dict[str, PaymentState]] = {
        "Unpaid": PaymentState.OPEN, "Paid": PaymentState.PAID,
    }
    update_rules: ClassVar[UpdateRules | None] = UpdateRules(
        frozenset({"Open", "BadAddress"}),
        {OrderState.CANCELLED: "Void", OrderState.ON_HOLD: "Held"},
    )
    capabilities = Capabilities(update=True, webhook=True)
    concurrency = 3

    def build_fetch(self, order_id: str) -> httpx.Request:
        return httpx.Request("GET", self.base_url.join(f"orders/{order_id}"))

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        return ParsedOrder(order_id, native_status=self.json(order_id, response)["status"])


class Plain(Acme):
    """A provider without payments or updates."""

    name = "plain"
    title = "Plain"
    payment_statuses: ClassVar[dict[str, PaymentState]] = {}
    update_rules = None
    capabilities = Capabilities()


class RulesButNoUpdate(Acme):
    """Declares rules but not the capability: the client refuses updates, so do the tables."""

    name = "rulesonly"
    capabilities = Capabilities(update=False)


def _column(table: tables.Table, header: str) -> list[Any]:
    index = table.headers.index(header)
    return [row[index] for row in table.rows]


def _html_rows(text: str) -> list[list[str]]:
    """Parse Markdown the way the docs build does; return the table's body cells."""
    html = markdown.markdown(text, extensions=["tables"])
    body = html.split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


# -- the lifecycle ------------------------------------------------------------------------------


def test_transitions_table_lists_every_state_once_with_its_exits() -> None:
    table = tables.transitions_table()
    assert _column(table, "from") == [s.value for s in lifecycle.TRANSITIONS]
    assert OrderState.UNKNOWN.value not in _column(table, "from")
    for source, targets in zip(table.rows, lifecycle.TRANSITIONS.values(), strict=True):
        assert set(source[1]) == {t.value for t in targets}


def test_terminal_states_show_no_exits() -> None:
    table = tables.transitions_table()
    exits = dict(zip(_column(table, "from"), _column(table, "to"), strict=True))
    assert {s for s, to in exits.items() if not to} == {s.value for s in lifecycle.TERMINAL}
    rendered = {row[0]: row[1] for row in _html_rows(tables.to_markdown(table))}
    for state in lifecycle.TERMINAL:
        assert rendered[state.value] == "none (terminal)"
    assert rendered["shipped"] == "delivered"


def test_skipped_states_table_agrees_with_check_move() -> None:
    table = tables.skipped_states_table()
    listed = {(row[0], row[1]): row[2] for row in table.rows}
    expected = {
        (a.value, b.value): tuple(s.value for s in move.skipped)
        for a in lifecycle.TRANSITIONS for b in OrderState
        if (move := lifecycle.check_move(a, b)).legal and move.skipped
    }
    assert listed == expected
    assert listed[("created", "delivered")] == ("in_production", "shipped")


# -- a provider's tables ------------------------------------------------------------------------


def test_native_statuses_appear_once_each_in_declaration_order() -> None:
    table = tables.native_statuses_table(Acme)
    assert _column(table, "native") == list(Acme.native_statuses)
    rows = _html_rows(tables.to_markdown(table))
    assert [r[0] for r in rows] == list(Acme.native_statuses)
    by_native = {r[0]: r for r in rows}
    assert by_native["BadAddress"] == [
        "BadAddress", "action_required", "address", "the customer must fix the address"
    ]
    assert by_native["Open"][1:] == ["created", "", "waiting for files"]


def test_payment_table_maps_each_native_payment() -> None:
    table = tables.payment_statuses_table(Acme)
    assert table.rows == (("Unpaid", "open"), ("Paid", "paid"))
    empty = tables.to_markdown(tables.payment_statuses_table(Plain))
    assert "|" not in empty
    assert "Plain reports no payment status" in empty


def test_update_rules_give_sources_with_their_states_and_targets() -> None:
    sources, targets = tables.update_rules_tables(Acme)
    assert sources.rows == (("BadAddress", "action_required"), ("Open", "created"))
    assert targets.rows == (("on_hold", "Held"), ("cancelled", "Void"))
    text = tables.to_markdown(targets, title=True)
    assert text.startswith("Acme Print update targets")
    assert _html_rows(text) == [["on_hold", "Held"], ["cancelled", "Void"]]


@pytest.mark.parametrize("provider", [Plain, RulesButNoUpdate])
def test_provider_without_updates_says_so(provider: type[Provider]) -> None:
    (only,) = tables.update_rules_tables(provider)
    assert only.rows == ()
    rendered = tables.to_markdown(only)
    assert "has no status update" in rendered
    assert "UpdateNotSupportedError" in rendered


def test_capabilities_table_one_row_per_provider() -> None:
    table = tables.capabilities_table([Acme, Plain, RulesButNoUpdate])
    records = tables.to_records(table)
    assert [r["provider"] for r in records] == ["acme", "plain", "rulesonly"]
    assert records[0] == {"provider": "acme", "title": "Acme Print", "fetch": "yes",
                          "update": "yes", "webhook": "yes", "feed": "no", "concurrency": "3"}
    assert records[2]["update"] == "no"
    assert tables.to_text(tables.capabilities_table([])).endswith("No provider is installed.")


def test_provider_tables_cover_capabilities_statuses_payment_and_rules() -> None:
    titles = [t.title for t in tables.provider_tables(Acme)]
    assert titles[:3] == ["Capabilities", "Acme Print native statuses",
                          "Acme Print payment statuses"]
    assert len(titles) == 5


# -- rendering ----------------------------------------------------------------------------------


def test_markdown_escapes_what_would_break_a_table() -> None:
    table = tables.Table(
        title="odd", headers=("value", "note"),
        rows=(("a|b", "x | y\nz"), ("tick`s", "back\\slash"), ((), "")),
        literal=frozenset({0}),
    )
    rows = _html_rows(tables.to_markdown(table))
    assert rows == [["a|b", "x | y z"], ["tick`s", "back\\slash"], ["—", ""]]


def test_text_is_aligned_under_a_title() -> None:
    text = tables.to_text(tables.transitions_table())
    title, blank, header, rule, *body = text.split("\n")
    assert (title, blank) == ("Observed transitions", "")
    column = header.index("to")
    assert rule[:column].rstrip() == rule[:column - 2]
    assert all(line[column - 2:column] == "  " and line[column] != " " for line in body)
    assert "delivered        none (terminal)" in body
    assert "`" not in text
    assert not any(line.endswith(" ") for line in text.split("\n"))


def test_records_keep_multi_value_cells_as_lists() -> None:
    records = tables.to_records(tables.transitions_table())
    assert records[4] == {"from": "shipped", "to": ["delivered"]}
    assert records[-1] == {"from": "test", "to": []}


def test_rows_must_match_the_headers() -> None:
    with pytest.raises(ValueError, match="do not have 2 cells"):
        tables.Table(title="t", headers=("a", "b"), rows=(("1",),))
