"""Static conformance checks: a provider's tables and rules, before any request."""

from __future__ import annotations

from orderstatus.lifecycle import TERMINAL, OrderState
from orderstatus.mapping import StatusMapper
from orderstatus.plugins import Registry
from orderstatus.provider import Provider

__all__ = ["table_problems"]


def table_problems(provider: type[Provider], registry: Registry | None = None) -> list[str]:
    """Everything wrong with ``provider``'s tables and rules, one readable line each.

    Checks that every native status maps to a canonical state (through the core's mapper,
    with the registry's overrides), that capabilities and update rules agree, that every
    update target's native status maps back to that target, and that no update rule lets an
    order leave a terminal state.
    """
    override = registry.map_override if registry and registry.has_map_overrides else None
    mapper = StatusMapper(provider, override)
    problems = [
        f"native status {native!r} maps to unknown"
        for native in provider.native_statuses
        if mapper.native(native).state is OrderState.UNKNOWN
    ]
    problems += [
        f"native payment status {native!r} maps to no payment state"
        for native in provider.payment_statuses
        if mapper.payment(native) is None
    ]
    rules, can_update = provider.update_rules, provider.capabilities.update
    if can_update and rules is None:
        problems.append("capabilities say update=True but update_rules is None")
    if rules is not None and not can_update:
        problems.append("update_rules are set but capabilities say update=False")
    if rules is None:
        return problems
    for target, native in sorted(rules.targets.items()):
        landed = mapper.native(native).state
        if landed is not target:
            problems.append(
                f"update target {target} sends {native!r}, which the table maps to {landed}"
            )
    for source in sorted(rules.sources):
        state = mapper.native(source).state
        exits = sorted(t.value for t in rules.targets if t is not state)
        if state in TERMINAL and exits:
            problems.append(
                f"update rules let an order leave terminal state {state}: source {source!r} "
                f"may be updated to {', '.join(exits)}"
            )
    return problems
