"""MkDocs hook: replace ``<!-- orderstatus:... -->`` marker lines with generated content.

Each marker stands alone on its line and is replaced by content generated from the installed
code, so a published table is never retyped:

- ``<!-- orderstatus:transitions -->``: the observed-transition table.
- ``<!-- orderstatus:skipped-states -->``: moves that skip states, and what they infer.
- ``<!-- orderstatus:lifecycle-diagram -->``: a Mermaid diagram of the lifecycle.
- ``<!-- orderstatus:native-statuses PROVIDER -->``: a provider's native-status mapping.
- ``<!-- orderstatus:payment-statuses PROVIDER -->``: its payment-status mapping.
- ``<!-- orderstatus:update-rules PROVIDER -->``: its update rules.
- ``<!-- orderstatus:capabilities PROVIDER -->``: what a provider can do.

Providers come from the installed plugins (:func:`orderstatus.default_registry`). A marker that
is malformed, unknown, or names a provider that is not installed fails the build. Markers inside
fenced code blocks are left alone, so pages can show the syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mkdocs.exceptions import PluginError

from orderstatus import OrderStatusError, default_registry, lifecycle, tables
from orderstatus.plugins import Registry
from orderstatus.provider import Provider

_ATTEMPT = re.compile(r"<!--\s*orderstatus:")
_MARKER = re.compile(r"^\s*<!--\s*orderstatus:(?P<kind>[a-z-]+)(?:\s+(?P<arg>\S+))?\s*-->\s*$")
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})")
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|exc|data|obj):<code>(~?)([^<]*)</code>")


def _markdown(*parts: tables.Table, title: bool = False) -> str:
    return "\n\n".join(tables.to_markdown(t, title=title) for t in parts)


def _diagram() -> str:
    return f"```mermaid\n{lifecycle.to_mermaid()}\n```"


_GLOBAL: dict[str, Callable[[], str]] = {
    "transitions": lambda: _markdown(tables.transitions_table()),
    "skipped-states": lambda: _markdown(tables.skipped_states_table()),
    "lifecycle-diagram": _diagram,
}
_PER_PROVIDER: dict[str, Callable[[type[Provider]], str]] = {
    "native-statuses": lambda p: _markdown(tables.native_statuses_table(p)),
    "payment-statuses": lambda p: _markdown(tables.payment_statuses_table(p)),
    "update-rules": lambda p: _markdown(*tables.update_rules_tables(p), title=True),
    "capabilities": lambda p: _markdown(tables.capabilities_table([p])),
}
KINDS = tuple(sorted({*_GLOBAL, *_PER_PROVIDER}))


class MarkerError(ValueError):
    """A marker that cannot be expanded; the message says where and why."""


def _provider(registry: Registry, name: str) -> type[Provider]:
    try:
        return registry.provider(name)
    except OrderStatusError as err:
        failures = [f"{f.plugin}: {f.reason}" for f in registry.failures]
        broken = f"; plugins that failed to load: {'; '.join(failures)}" if failures else ""
        raise MarkerError(f"{err.detail}{broken}") from None


def render(kind: str, arg: str | None, registry: Registry) -> str:
    """The generated Markdown for one marker."""
    if kind in _GLOBAL:
        if arg is not None:
            raise MarkerError(f"marker {kind!r} takes no provider, got {arg!r}")
        return _GLOBAL[kind]()
    if kind in _PER_PROVIDER:
        if arg is None:
            raise MarkerError(f"marker {kind!r} needs a provider name")
        return _PER_PROVIDER[kind](_provider(registry, arg))
    raise MarkerError(f"unknown marker {kind!r}; known: {', '.join(KINDS)}")


def expand(markdown: str, registry: Registry, *, where: str = "page") -> str:
    """Replace every marker line of ``markdown`` outside fenced code blocks.

    Raises:
        MarkerError: naming the page and line of the first marker that cannot be expanded.
    """
    out: list[str] = []
    fence: str | None = None
    for number, line in enumerate(markdown.split("\n"), start=1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened["fence"][0] == fence[0] and len(opened["fence"]) >= len(fence):
                fence = None
        elif opened:
            fence = opened["fence"]
        elif _ATTEMPT.search(line):
            match = _MARKER.match(line)
            if match is None:
                raise MarkerError(
                    f"{where}:{number}: malformed marker {line.strip()!r}; write "
                    "'<!-- orderstatus:KIND [PROVIDER] -->' alone on its line"
                )
            try:
                line = render(match["kind"], match["arg"], registry)
            except MarkerError as err:
                raise MarkerError(f"{where}:{number}: {line.strip()}: {err}") from None
        out.append(line)
    return "\n".join(out)


def on_page_markdown(markdown: str, *, page: Any, **kwargs: Any) -> str:
    """MkDocs event: expand the markers of one page; any problem fails the build."""
    try:
        return expand(markdown, default_registry(), where=page.file.src_uri)
    except MarkerError as err:
        raise PluginError(f"orderstatus docs hook: {err}") from None


def on_page_content(html: str, **kwargs: Any) -> str:
    """MkDocs event: show Sphinx roles left in docstrings (``:class:`X```) as plain code."""
    return _ROLE.sub(
        lambda m: f"<code>{m[2].rsplit('.', 1)[-1] if m[1] else m[2]}</code>", html
    )
