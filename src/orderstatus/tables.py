"""Tables of the core's own data: the lifecycle, and each provider's mappings and rules.

Building and rendering are separate. The ``*_table`` functions turn data into a :class:`Table`;
:func:`to_markdown`, :func:`to_text` and :func:`to_records` render any table. The docs build
and the ``orderstatus`` command share them, so a published table is never retyped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeAlias

import attrs

from .lifecycle import TRANSITIONS, OrderState, skipped
from .mapping import StatusMapper
from .provider import Provider

__all__ = [
    "Cell",
    "Table",
    "capabilities_table",
    "native_statuses_table",
    "payment_statuses_table",
    "provider_tables",
    "skipped_states_table",
    "to_markdown",
    "to_records",
    "to_text",
    "transitions_table",
    "update_rules_tables",
]

Cell: TypeAlias = "str | tuple[str, ...]"
"""One value, or several (a tuple, shown comma-separated)."""


@attrs.frozen
class Table:
    """Rows of plain strings, with just enough shape for every renderer."""

    title: str
    """What the table shows, one line."""
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    literal: frozenset[int] = frozenset()
    """Columns holding literal values (statuses, states): shown as code in Markdown."""
    none: str = "—"
    """Shown for an empty multi-value cell."""
    empty: str = "nothing to show"
    """Said instead of the table when it has no rows."""

    def __attrs_post_init__(self) -> None:
        bad = [i for i, row in enumerate(self.rows) if len(row) != len(self.headers)]
        if bad:
            raise ValueError(f"rows {bad} do not have {len(self.headers)} cells")


# -- building ---------------------------------------------------------------------------------

_ORDER = {state: index for index, state in enumerate(OrderState)}


def _states(states: Iterable[OrderState]) -> tuple[str, ...]:
    return tuple(s.value for s in sorted(states, key=_ORDER.__getitem__))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def transitions_table() -> Table:
    """The observed-transition table, one row per state in lifecycle order."""
    return Table(
        title="Observed transitions",
        headers=("from", "to"),
        rows=tuple((state.value, _states(targets)) for state, targets in TRANSITIONS.items()),
        literal=frozenset({0, 1}),
        none="none (terminal)",
    )


def skipped_states_table() -> Table:
    """Every legal move that skips states, and the states it infers."""
    rows = tuple(
        (source.value, target.value, gap)
        for source, targets in TRANSITIONS.items()
        for target in sorted(targets, key=_ORDER.__getitem__)
        if (gap := _states(skipped(source, target)))
    )
    return Table(
        title="Moves that skip states",
        headers=("from", "to", "skipped (inferred)"),
        rows=rows,
        literal=frozenset({0, 1, 2}),
    )


def native_statuses_table(provider: type[Provider]) -> Table:
    """A provider's native statuses in declaration order: native, state, reason, note."""
    rows = tuple(
        (native, mapped.state.value, mapped.reason.value if mapped.reason else "", mapped.note)
        for native, mapped in provider.native_statuses.items()
    )
    return Table(
        title=f"{provider.title} native statuses",
        headers=("native", "state", "reason", "note"),
        rows=rows,
        literal=frozenset({0, 1, 2}),
        empty=f"{provider.title} declares no native statuses.",
    )


def payment_statuses_table(provider: type[Provider]) -> Table:
    """A provider's native payment statuses and the payment state each one maps to."""
    return Table(
        title=f"{provider.title} payment statuses",
        headers=("native", "payment"),
        rows=tuple((native, state.value) for native, state in provider.payment_statuses.items()),
        literal=frozenset({0, 1}),
        empty=f"{provider.title} reports no payment status: `payment` is always `None`.",
    )


def update_rules_tables(provider: type[Provider]) -> tuple[Table, ...]:
    """A provider's update rules: the native sources, then canonical target -> native target.

    A provider that cannot update gets one empty table saying so.
    """
    rules = provider.update_rules_in_force()
    if rules is None:
        return (
            Table(
                title=f"{provider.title} update targets",
                headers=("target", "native status sent"),
                rows=(),
                empty=(
                    f"{provider.title} has no status update: `update()` raises "
                    "`UpdateNotSupportedError` before any request."
                ),
            ),
        )
    mapper = StatusMapper(provider)
    sources = Table(
        title=f"{provider.title} accepts an update only while every item is in one of these",
        headers=("native source", "state"),
        rows=tuple(
            (native, mapper.native(native).state.value)
            for native in sorted(rules.sources, key=str.casefold)
        ),
        literal=frozenset({0, 1}),
        empty=f"{provider.title} accepts no update from any status.",
    )
    targets = Table(
        title=f"{provider.title} update targets: canonical state and the native status sent",
        headers=("target", "native status sent"),
        rows=tuple(
            (state.value, rules.targets[state])
            for state in sorted(rules.targets, key=_ORDER.__getitem__)
        ),
        literal=frozenset({0, 1}),
        empty=f"{provider.title} accepts no update target.",
    )
    return sources, targets


def capabilities_table(providers: Sequence[type[Provider]]) -> Table:
    """What each provider can do, one row per provider."""
    rows = tuple(
        (
            p.name, p.title, _yes(p.capabilities.fetch),
            _yes(p.update_rules_in_force() is not None),
            _yes(p.capabilities.webhook), _yes(p.capabilities.feed), str(p.concurrency),
        )
        for p in providers
    )
    return Table(
        title="Capabilities",
        headers=("provider", "title", "fetch", "update", "webhook", "feed", "concurrency"),
        rows=rows,
        literal=frozenset({0}),
        empty="No provider is installed.",
    )


def provider_tables(provider: type[Provider]) -> tuple[Table, ...]:
    """Every table about one provider: capabilities, statuses, payment, update rules."""
    return (
        capabilities_table([provider]),
        native_statuses_table(provider),
        payment_statuses_table(provider),
        *update_rules_tables(provider),
    )


# -- rendering --------------------------------------------------------------------------------


def _values(cell: Cell) -> tuple[str, ...]:
    return (cell,) if isinstance(cell, str) else cell


def _plain(table: Table, cell: Cell) -> str:
    values = _values(cell)
    if not values:
        return table.none
    return " ".join(", ".join(values).split())


def _code(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        return ""
    fence = "``" if "`" in value else "`"
    pad = " " if fence == "``" or value.startswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _markdown_cell(table: Table, column: int, cell: Cell) -> str:
    values = _values(cell)
    if not values:
        return table.none
    if column in table.literal:  # Python-Markdown keeps pipes inside code spans
        return ", ".join(_code(v) for v in values)
    text = ", ".join(values)
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def _grid(header: Sequence[str], cells: Sequence[Sequence[str]], sep: str) -> list[str]:
    """Header, a rule of dashes, then the cells; columns padded to one width."""
    widths = [max(3, *(len(line[i]) for line in [header, *cells])) for i in range(len(header))]
    rule = ["-" * w for w in widths]
    return [
        sep.join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        for line in [header, rule, *cells]
    ]


def to_markdown(table: Table, *, title: bool = False) -> str:
    """Render ``table`` as a Markdown table (its ``empty`` sentence when it has no rows).

    Args:
        table: the table.
        title: start with the table's title as a paragraph (pages usually give a heading).
    """
    lead = [f"{table.title}:", ""] if title else []
    if not table.rows:
        return "\n".join([*lead, table.empty])
    cells = [[_markdown_cell(table, i, c) for i, c in enumerate(row)] for row in table.rows]
    lines = _grid(table.headers, cells, " | ")
    return "\n".join([*lead, *(f"| {line} |" for line in lines)])


def to_text(table: Table) -> str:
    """Render ``table`` as aligned plain text for a terminal, under its title."""
    if not table.rows:
        return f"{table.title}\n  {table.empty}"
    cells = [[_plain(table, cell) for cell in row] for row in table.rows]
    lines = _grid(table.headers, cells, "  ")
    return "\n".join([table.title, "", *(line.rstrip() for line in lines)])


def to_records(table: Table) -> list[dict[str, str | list[str]]]:
    """Render ``table`` as JSON-ready records: header -> value (a list for multi-value cells)."""
    return [
        {h: (c if isinstance(c, str) else list(c)) for h, c in zip(table.headers, row, strict=True)}
        for row in table.rows
    ]
