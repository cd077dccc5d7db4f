"""Hypothesis strategies for orderstatus values.

Every strategy follows Hypothesis's API style: plural names, keyword-only options, and bad
arguments raise :class:`hypothesis.errors.InvalidArgument` when the strategy is first drawn
from, not when it is built. Statuses are built the way the client builds them: a
:class:`~orderstatus.ParsedOrder` mapped by the core's
:class:`~orderstatus.mapping.StatusMapper`, so their ``state`` always agrees with their
native statuses and items.

``provider`` options take a provider name (looked up in ``registry``, by default the
installed plugins), a :class:`~orderstatus.Provider` subclass, or ``None`` for a generic
provider whose native statuses are the canonical names (``"shipped"``,
``"action_required.address"``, …).

Importing ``hypothesis`` registers :class:`~orderstatus.OrderStatus` and
:class:`~orderstatus.testing.history.StatusHistory` for ``st.from_type`` (through the
``hypothesis`` entry point), so ``@given(status=...)`` with type annotations works too.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from orderstatus.lifecycle import TRANSITIONS, ActionReason, OrderState, PaymentState, aggregate
from orderstatus.mapping import StatusMapper
from orderstatus.models import OrderStatus, Tracking
from orderstatus.plugins import Registry, default_registry
from orderstatus.provider import ParsedItem, ParsedOrder, Provider

from .generic import GenericProvider
from .history import StatusHistory

__all__ = [
    "StatusHistory",
    "action_reasons",
    "json_mutations",
    "json_values",
    "native_statuses",
    "order_states",
    "order_statuses",
    "payment_states",
    "status_histories",
]

T = TypeVar("T")
ProviderArg = str | type[Provider] | None

_LIFECYCLE = tuple(OrderState)
_SHIPPED = frozenset({OrderState.SHIPPED, OrderState.DELIVERED})
_START = dt.datetime(2020, 1, 1)
_END = dt.datetime(2035, 1, 1)
_PLAUSIBLE = (
    "Pending", "OnHold", "Archived", "Refunded", "Returned", "Lost", "Draft", "Rejected",
    "Partially Shipped", "InTransit", "Error", "",
)
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
_ORDER_IDS = st.text(alphabet=_ID_ALPHABET, min_size=1, max_size=24)
_TIMES = st.datetimes(min_value=_START, max_value=_END, timezones=st.just(dt.timezone.utc))
_MAYBE_TIMES = st.none() | _TIMES
_WORDS = st.text(alphabet=_ID_ALPHABET, min_size=1, max_size=12)
_TRACKING = st.builds(
    Tracking,
    carrier=st.none() | st.sampled_from(["PostNL", "DHL", "UPS", "USPS", "FedEx"]),
    number=st.none() | _WORDS,
    url=st.none() | _WORDS.map(lambda n: f"https://track.example/{n}"),
)
_TRACKINGS = st.none() | _TRACKING


def _lazy(build: Callable[[], st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Defer building (and validating) until the first draw, as Hypothesis's own do."""
    return st.deferred(build)


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be a bool")


def _check_size(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an integer of at least {minimum}")
    return value


def _resolve(provider: ProviderArg, registry: Registry | None) -> type[Provider]:
    """The provider class; also loads the installed plugins, whatever ``provider`` is.

    Strategies are built before Hypothesis runs the first example and times it. A
    :class:`~orderstatus.Tracker` fed the drawn statuses would otherwise load the plugins on
    its first change, inside the first example, and a loaded machine takes longer than the
    default 200 ms deadline to do it.
    """
    installed = default_registry()
    if provider is None:
        return GenericProvider
    if isinstance(provider, type) and issubclass(provider, Provider):
        return provider
    if isinstance(provider, str):
        try:
            return (registry or installed).provider(provider)
        except LookupError as err:
            raise InvalidArgument(str(err)) from None
        except Exception as err:
            raise InvalidArgument(f"provider={provider!r}: {err}") from None
    raise InvalidArgument(
        f"provider={provider!r} must be a provider name, a Provider subclass or None"
    )


# -- enums ----------------------------------------------------------------------------------


def order_states(*, include_unknown: bool = False) -> st.SearchStrategy[OrderState]:
    """Canonical states, in lifecycle order (shrinking towards ``created``).

    Args:
        include_unknown: also draw ``unknown`` (never a transition, so left out by default).
    """

    def build() -> st.SearchStrategy[OrderState]:
        _check_bool("include_unknown", include_unknown)
        return st.sampled_from(
            [s for s in _LIFECYCLE if include_unknown or s is not OrderState.UNKNOWN]
        )

    return _lazy(build)


def action_reasons() -> st.SearchStrategy[ActionReason]:
    """Reasons an order waits in ``action_required``."""
    return st.sampled_from(list(ActionReason))


def payment_states() -> st.SearchStrategy[PaymentState]:
    """Payment states."""
    return st.sampled_from(list(PaymentState))


# -- what one provider's statuses are drawn from, prepared once ----------------------------


@attrs.frozen
class _Kit:
    """One provider's tables as strategies, built once per provider class and reused by every
    draw: building strategies inside a draw (a fresh ``sampled_from`` or ``filter``) costs
    Hypothesis far more than drawing from one, and a slow draw fails its health checks."""

    mapper: StatusMapper
    mapped: st.SearchStrategy[str]
    """Native statuses of the table."""
    unmapped: st.SearchStrategy[str]
    """Strings the table does not map."""
    payments: st.SearchStrategy[str | None]
    """A native payment status, or none."""
    natives: dict[OrderState, st.SearchStrategy[str]]
    """The natives of each state the table can express (never ``unknown``)."""
    starts: st.SearchStrategy[OrderState]
    """Where a walk may start: any expressible state, shrinking towards ``created``."""
    moves: dict[OrderState, st.SearchStrategy[OrderState]]
    """The expressible states each one can move to (terminal states are absent)."""


@functools.cache
def _kit(cls: type[Provider]) -> _Kit:
    mapper = StatusMapper(cls)
    by_state: dict[OrderState, list[str]] = {}
    for native in sorted(cls.native_statuses):
        by_state.setdefault(mapper.native(native).state, []).append(native)
    by_state.pop(OrderState.UNKNOWN, None)
    states = [s for s in _LIFECYCLE if s in by_state]
    moves = {
        state: [s for s in states if s in TRANSITIONS[state]] for state in states
    }
    payments = sorted(cls.payment_statuses)
    kit = _Kit(
        mapper=mapper,
        mapped=st.sampled_from(sorted(cls.native_statuses)),
        unmapped=_unmapped(cls),
        payments=st.none() | st.sampled_from(payments) if payments else st.none(),
        natives={state: st.sampled_from(natives) for state, natives in by_state.items()},
        starts=st.sampled_from(states),
        moves={state: st.sampled_from(following) for state, following in moves.items()
               if following},
    )
    # Validating builds what a strategy needs before its first draw, now, before Hypothesis
    # times anything: the first st.text() of a project without a .hypothesis directory
    # (a fresh CI checkout) computes a Unicode table, seconds on a loaded machine.
    for strategy in (kit.mapped, kit.unmapped, kit.payments, kit.starts, *kit.natives.values(),
                     *kit.moves.values(), _ORDER_IDS, _MAYBE_TIMES, _TRACKINGS):
        strategy.validate()
    return kit


def _unmapped(cls: type[Provider]) -> st.SearchStrategy[str]:
    """Strings the provider's table does not map: near-misses, plausible words, any text."""
    key = cls.native_key
    known = {key(native) for native in cls.native_statuses}
    near = sorted(
        {
            variant
            for native in cls.native_statuses
            for variant in (native.upper(), native.lower(), native.swapcase(),
                            f" {native}", f"{native}!", f"{native}2")
        }
    )
    words = st.sampled_from([w for w in [*_PLAUSIBLE, *near] if key(w) not in known])
    return words | st.text(max_size=24).filter(lambda s: key(s) not in known)


# -- native statuses ------------------------------------------------------------------------


def native_statuses(
    provider: str | type[Provider] | None, *, unmapped: bool = False,
    registry: Registry | None = None,
) -> st.SearchStrategy[str]:
    """Native status strings from ``provider``'s own table.

    Args:
        provider: a provider name, a Provider subclass, or ``None`` for the generic table.
        unmapped: also draw strings the table does not map (near-misses such as other
            spellings, plausible status words and arbitrary text); they map to ``unknown``.
        registry: where to look up a provider name (default: the installed plugins).
    """

    def build() -> st.SearchStrategy[str]:
        _check_bool("unmapped", unmapped)
        kit = _kit(_resolve(provider, registry))
        return kit.mapped | kit.unmapped if unmapped else kit.mapped

    return _lazy(build)


# -- order statuses -------------------------------------------------------------------------


def _raw(parsed_items: Sequence[ParsedItem], order_id: str, native: str | None,
         payment: str | None) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": native,
        "payment": payment,
        "items": [{"id": i.item_id, "status": i.native_status} for i in parsed_items],
    }


def _parsed(
    order_id: str, natives: Sequence[str], *, per_item: bool, mapper: StatusMapper,
    payment: str | None, tracking: Tracking | None, provider_time: dt.datetime | None,
) -> ParsedOrder:
    """A parsed answer: one native per item (per-item shape) or ``natives[0]`` for the order."""

    def parcels(native: str) -> tuple[Tracking, ...]:
        shipped = mapper.native(native).state in _SHIPPED
        return (tracking,) if tracking is not None and shipped else ()

    if per_item:
        items = tuple(
            ParsedItem(str(n + 1), native, parcels(native)) for n, native in enumerate(natives)
        )
        order_native: str | None = None
        order_tracking: tuple[Tracking, ...] = ()
    else:
        items = tuple(ParsedItem(str(n + 1)) for n in range(len(natives)))
        order_native, order_tracking = natives[0], parcels(natives[0])
    return ParsedOrder(
        order_id, native_status=order_native, items=items, native_payment=payment,
        tracking=order_tracking, provider_time=provider_time,
        raw=_raw(items, order_id, order_native, payment),
    )


def order_statuses(
    *, provider: str | type[Provider] | None = None, registry: Registry | None = None,
    per_item: bool | None = None, min_items: int = 1, max_items: int = 3,
    unmapped: bool = False,
) -> st.SearchStrategy[OrderStatus]:
    """Valid :class:`~orderstatus.OrderStatus` values, items included.

    Args:
        provider: a provider name, a Provider subclass, or ``None`` for the generic table.
        registry: where to look up a provider name (default: the installed plugins).
        per_item: ``True``: every item has its own native status and the order's state is
            their aggregate (Gooten's shape); ``False``: one order-level status shared by
            the items (Print API's shape); ``None``: either.
        min_items: fewest items (at least 1).
        max_items: most items.
        unmapped: also use native statuses the table does not map (state ``unknown``).
    """

    def build() -> st.SearchStrategy[OrderStatus]:
        _check_bool("unmapped", unmapped)
        if per_item is not None:
            _check_bool("per_item", per_item)
        low = _check_size("min_items", min_items, 1)
        high = _check_size("max_items", max_items, 1)
        if low > high:
            raise InvalidArgument(f"min_items={low} must not exceed max_items={high}")
        kit = _kit(_resolve(provider, registry))
        natives = kit.mapped | kit.unmapped if unmapped else kit.mapped
        return _order_statuses(kit, natives, _shapes(per_item), st.integers(low, high))

    return _lazy(build)


def _shapes(per_item: bool | None) -> st.SearchStrategy[bool]:
    return st.booleans() if per_item is None else st.just(per_item)


@st.composite
def _order_statuses(
    draw: st.DrawFn, kit: _Kit, natives: st.SearchStrategy[str],
    shapes: st.SearchStrategy[bool], counts: st.SearchStrategy[int],
) -> OrderStatus:
    shape, count = draw(shapes), draw(counts)
    chosen = [draw(natives) for _ in range(count if shape else 1)] * (1 if shape else count)
    provider_time = draw(_MAYBE_TIMES)
    lag = dt.timedelta(seconds=draw(st.integers(0, 3600)))
    observed_at = (provider_time or draw(_TIMES)) + lag
    parsed = _parsed(
        draw(_ORDER_IDS), chosen, per_item=shape, mapper=kit.mapper,
        payment=draw(kit.payments), tracking=draw(_TRACKINGS), provider_time=provider_time,
    )
    return kit.mapper.to_status(parsed, observed_at=observed_at)


# -- histories ------------------------------------------------------------------------------


def status_histories(
    *, provider: str | type[Provider] | None = None, registry: Registry | None = None,
    per_item: bool | None = None, duplicates: bool = False, reorder: bool = False,
    unknowns: bool = False, details: bool = False, max_size: int = 10,
) -> st.SearchStrategy[StatusHistory]:
    """Sequences of observations of one order that a real provider could produce.

    Draws a :class:`StatusHistory`: ``.truth`` is the order's life, each step a change a
    platform acts on: a legal move through :data:`~orderstatus.lifecycle.TRANSITIONS` (jumps
    that skip states included) over the states the provider's table can express, or, with
    ``details``, a change that leaves the order's state alone; with strictly increasing
    ``provider_time`` (or ``None`` throughout, for providers without timestamps) and
    ``observed_at``. ``.observations`` is what arrives. Shrinks towards a short walk from
    ``created`` that arrives in order.

    Args:
        provider: a provider name, a Provider subclass, or ``None`` for the generic table.
        registry: where to look up a provider name (default: the installed plugins).
        per_item: the shape of the statuses, as in :func:`order_statuses`.
        duplicates: deliver some observations twice (equal in every field).
        reorder: deliver observations in any order (each keeps its timestamps).
        unknowns: mix in observations whose native status the table does not map; they
            sit between walk steps in time and are not part of ``truth``.
        details: mix in steps that change the payment (to another payment state), the
            tracking of a shipped order, or one item's state (a legal move that leaves the
            order's aggregate state where it is), wherever the order allows one.
        max_size: most observations in all (at least 1).
    """

    def build() -> st.SearchStrategy[StatusHistory]:
        for name, flag in (("duplicates", duplicates), ("reorder", reorder),
                           ("unknowns", unknowns), ("details", details)):
            _check_bool(name, flag)
        if per_item is not None:
            _check_bool("per_item", per_item)
        size = _check_size("max_size", max_size, 1)
        return _histories(_kit(_resolve(provider, registry)), _shapes(per_item), duplicates,
                          reorder, unknowns, details, size)

    return _lazy(build)


@st.composite
def _walks(draw: st.DrawFn, kit: _Kit, length: int) -> list[OrderState]:
    """A legal walk of at most ``length`` states; it ends early at a terminal state."""
    walk = [draw(kit.starts)]
    while len(walk) < length and walk[-1] in kit.moves:
        walk.append(draw(kit.moves[walk[-1]]))
    return walk


@attrs.frozen
class _Order:
    """What the provider knows of the order at one moment: the inputs of a parsed answer."""

    natives: tuple[str, ...]
    """One native status per item (the order's own, repeated, for order-level shapes)."""
    payment: str | None
    tracking: Tracking | None


_DETAIL = "detail"


def _item_moves(order: _Order, mapper: StatusMapper) -> list[tuple[str, ...]]:
    """Every order whose items differ from ``order``'s in one item's state, by a legal move
    that leaves the aggregate state where it is."""
    states = [mapper.native(n).state for n in order.natives]
    overall = aggregate(states)
    moves = []
    for n, state in enumerate(states):
        for other in sorted(mapper.provider.native_statuses):
            moved = mapper.native(other).state
            if moved is OrderState.UNKNOWN or moved not in TRANSITIONS[state]:
                continue
            after = [*order.natives[:n], other, *order.natives[n + 1:]]
            if aggregate(mapper.native(a).state for a in after) is overall:
                moves.append(tuple(after))
    return moves


@st.composite
def _details(draw: st.DrawFn, order: _Order, mapper: StatusMapper,
             per_item: bool) -> _Order | None:
    """``order`` with its payment, tracking or one item's state changed (``None``: no such
    change is possible now)."""
    payments = mapper.provider.payment_statuses
    current = mapper.payment(order.payment) if order.payment is not None else None
    options: list[Callable[[], _Order]] = []
    other_payments = tuple(sorted(n for n, state in payments.items() if state is not current))
    if other_payments:
        options.append(lambda: attrs.evolve(
            order, payment=draw(st.sampled_from(other_payments))))
    if any(mapper.native(n).state in _SHIPPED for n in order.natives):
        options.append(lambda: attrs.evolve(
            order, tracking=draw(_TRACKING.filter(lambda t: t != order.tracking))))
    moves = _item_moves(order, mapper) if per_item and len(order.natives) > 1 else []
    if moves:
        options.append(lambda: attrs.evolve(order, natives=draw(st.sampled_from(moves))))
    if not options:
        return None
    return draw(st.sampled_from(options))()


@st.composite
def _histories(
    draw: st.DrawFn, kit: _Kit, shapes: st.SearchStrategy[bool], duplicates: bool,
    reorder: bool, unknowns: bool, details: bool, max_size: int,
) -> StatusHistory:
    walk = draw(_walks(kit, draw(st.integers(1, max_size))))
    # Each event is a walk step (its state), a detail step, or an unknown status (None), in
    # true order; the first is always a walk step.
    events: list[OrderState | str | None] = list(walk)
    if details:
        for _ in range(draw(st.integers(0, max_size - len(events)))):
            events.insert(draw(st.integers(1, len(events))), _DETAIL)
    if unknowns:
        for _ in range(draw(st.integers(0, max_size - len(events)))):
            events.insert(draw(st.integers(0, len(events))), None)

    shape = draw(shapes)
    count = draw(st.integers(1, 3)) if shape else draw(st.integers(1, 2))
    order_id = draw(_ORDER_IDS)
    order = _Order((), draw(kit.payments), draw(_TRACKINGS))
    stamped = draw(st.booleans())
    lag = dt.timedelta(seconds=draw(st.integers(0, 600)))
    moment = draw(_TIMES)

    statuses: list[OrderStatus] = []
    truth: list[OrderStatus] = []
    for event in events:
        if event is _DETAIL:
            changed = draw(_details(order, kit.mapper, shape))
            if changed is None:
                continue
            order = seen = changed
        elif event is None:  # one status the table does not map, on every item
            seen = attrs.evolve(order, natives=(draw(kit.unmapped),) * count)
        else:
            assert isinstance(event, OrderState)
            if shape:
                said = tuple(draw(kit.natives[event]) for _ in range(count))
            else:
                said = (draw(kit.natives[event]),) * count
            order = seen = attrs.evolve(order, natives=said)
        moment += dt.timedelta(seconds=draw(st.integers(1, 3 * 86400)))
        parsed = _parsed(
            order_id, seen.natives, per_item=shape, mapper=kit.mapper, payment=seen.payment,
            tracking=seen.tracking, provider_time=moment if stamped else None,
        )
        status = kit.mapper.to_status(parsed, observed_at=moment + lag)
        statuses.append(status)
        if event is not None:
            truth.append(status)

    if duplicates:
        for _ in range(draw(st.integers(0, max_size - len(statuses)))):
            original = draw(st.integers(0, len(statuses) - 1))
            statuses.insert(original + 1, statuses[original])
    if reorder:
        statuses = draw(st.permutations(statuses))
    return StatusHistory(kit.mapper.provider.name, order_id, tuple(truth), tuple(statuses))


# -- provider answers of any shape ------------------------------------------------------------


def json_values(
    *, keys: Sequence[str] = (), texts: Sequence[str] = (), max_leaves: int = 20
) -> st.SearchStrategy[Any]:
    """Any JSON value: null, booleans, numbers (huge integers included), text, and lists and
    objects of them, nested.

    Args:
        keys: object keys to draw often (a provider's own field names), beside any text.
        texts: string values to draw often (its statuses, a date in its format), at any depth.
        max_leaves: about how many scalars one value holds, at most.
    """

    def build() -> st.SearchStrategy[Any]:
        for name, strings in (("keys", keys), ("texts", texts)):
            if isinstance(strings, str) or not all(isinstance(k, str) for k in strings):
                raise InvalidArgument(f"{name}={strings!r} must be a sequence of strings")
        leaves = _check_size("max_leaves", max_leaves, 1)
        names = st.text(max_size=8) | (st.sampled_from(list(keys)) if keys else st.nothing())
        scalars = (st.none() | st.booleans() | st.integers() | st.integers(10**300, 10**310)
                   | st.floats() | st.text(max_size=12)
                   | (st.sampled_from(list(texts)) if texts else st.nothing()))
        return st.recursive(
            scalars,
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=5),
            max_leaves=leaves,
        )

    return _lazy(build)


def json_mutations(
    document: Any, *, values: st.SearchStrategy[Any] | None = None
) -> st.SearchStrategy[Any]:
    """``document`` (a provider's real answer) with one part replaced: the whole, the value
    under one of its keys, or one entry of one of its lists, at any depth.

    Args:
        document: a JSON value, e.g. a recorded answer's parsed body. It is never changed.
        values: what a part is replaced with (default: :func:`json_values`).
    """

    def build() -> st.SearchStrategy[Any]:
        if values is not None and not isinstance(values, st.SearchStrategy):
            raise InvalidArgument(f"values={values!r} must be a Hypothesis strategy")
        replacements = values if values is not None else json_values()

        @st.composite
        def mutated(draw: st.DrawFn) -> Any:
            return _replaced(document, draw, replacements)

        return mutated()

    return _lazy(build)


def _replaced(document: Any, draw: st.DrawFn, values: st.SearchStrategy[Any]) -> Any:
    if isinstance(document, dict) and document and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(document)))
        return {**document, key: _replaced(document[key], draw, values)}
    if isinstance(document, list) and document and draw(st.booleans()):
        index = draw(st.integers(0, len(document) - 1))
        return [*document[:index], _replaced(document[index], draw, values),
                *document[index + 1:]]
    return draw(values)

