"""Commands on reference data: ``providers``, ``lifecycle`` and ``mappings``."""

from __future__ import annotations

import argparse
from typing import Any

from .common import EXIT_OK
from .output import dumps, print_tables, quiet, say

__all__ = ["cmd_lifecycle", "cmd_mappings", "cmd_providers"]


def cmd_providers(args: argparse.Namespace) -> int:
    """Installed providers, their capabilities, the plugins (and versions) that brought them,
    plugins that failed, plugins blocked."""
    import attrs

    from orderstatus.plugins import default_registry
    from orderstatus.tables import Table, capabilities_table

    with quiet("orderstatus"):
        registry = default_registry()
    regs = [registry.registration(n) for n in registry.names]
    plugins: dict[str, dict[str, Any]] = {}
    for r in regs:
        plugin = plugins.setdefault(r.plugin, {"name": r.plugin, "distribution": r.distribution,
                                               "version": r.version, "providers": []})
        plugin["providers"].append(r.provider.name)
    if args.json:
        say(dumps({
            "providers": [
                {"name": r.provider.name, "title": r.provider.title, "plugin": r.plugin,
                 "version": r.version, "sandbox": r.has_sandbox,
                 "concurrency": r.provider.concurrency,
                 "capabilities": attrs.asdict(r.provider.capabilities)}
                for r in regs
            ],
            "plugins": sorted(plugins.values(), key=lambda p: str(p["name"])),
            "failures": [attrs.asdict(f) for f in registry.failures],
            "blocked": list(registry.blocked),
        }))
        return EXIT_OK
    base = capabilities_table([r.provider for r in regs])
    providers = Table(
        title="Installed providers",
        headers=(*base.headers, "plugin", "sandbox"),
        rows=tuple(
            (*row, r.plugin, "yes" if r.has_sandbox else "no")
            for row, r in zip(base.rows, regs, strict=True)
        ),
        empty=base.empty,
    )
    versions = Table(
        title="Plugins",
        headers=("plugin", "distribution", "version", "providers"),
        rows=tuple(
            (p["name"], p["distribution"] or "-", p["version"] or "-", tuple(p["providers"]))
            for p in sorted(plugins.values(), key=lambda p: str(p["name"]))
        ),
        empty="No plugin is installed.",
    )
    print_tables([providers, versions])
    if registry.failures:
        say("\nPlugins that failed to load:")
        for failure in registry.failures:
            origin = f" ({failure.distribution} {failure.version})" if failure.distribution else ""
            say(f"  {failure.plugin}: {failure.reason}{origin}")
    if registry.blocked:
        say(f"\nBlocked by ORDERSTATUS_DISABLE_PLUGINS: {', '.join(registry.blocked)}")
    return EXIT_OK


def cmd_lifecycle(args: argparse.Namespace) -> int:
    """The canonical lifecycle: transitions table, Mermaid diagram or JSON."""
    from orderstatus import lifecycle
    from orderstatus.tables import skipped_states_table, transitions_table

    if args.format == "mermaid":
        say(lifecycle.to_mermaid())
    elif args.format == "json":
        say(dumps({
            "states": [s.value for s in lifecycle.OrderState],
            "terminal": sorted(s.value for s in lifecycle.TERMINAL),
            "main_line": [s.value for s in lifecycle.MAIN_LINE],
            "transitions": {
                s.value: sorted(t.value for t in targets)
                for s, targets in lifecycle.TRANSITIONS.items()
            },
            "reasons": [r.value for r in lifecycle.ActionReason],
            "payments": [p.value for p in lifecycle.PaymentState],
        }))
    else:
        print_tables([transitions_table(), skipped_states_table()])
    return EXIT_OK


def cmd_mappings(args: argparse.Namespace) -> int:
    """Each provider's native statuses, payment statuses and update rules."""
    from orderstatus.plugins import default_registry
    from orderstatus.tables import (
        native_statuses_table,
        payment_statuses_table,
        update_rules_tables,
    )

    registry = default_registry()
    names = [args.provider] if args.provider else list(registry.names)
    providers = [registry.provider(n) for n in names]
    if args.format == "json":
        for p in providers:
            rules = p.update_rules_in_force()
            say(dumps({
                "provider": p.name, "title": p.title,
                "native_statuses": {
                    native: {"state": m.state.value,
                             "reason": m.reason.value if m.reason else None, "note": m.note}
                    for native, m in p.native_statuses.items()
                },
                "payment_statuses": {n: s.value for n, s in p.payment_statuses.items()},
                "update_rules": None if rules is None else {
                    "sources": sorted(rules.sources),
                    "targets": {s.value: n for s, n in rules.targets.items()},
                },
            }))
        return EXIT_OK
    print_tables(
        t for p in providers
        for t in (native_statuses_table(p), payment_statuses_table(p), *update_rules_tables(p))
    )
    return EXIT_OK
