"""Registers orderstatus types with Hypothesis when Hypothesis is imported.

Hypothesis runs :func:`_hypothesis_setup_hook` through the ``hypothesis`` entry point. The
strategies module is only imported on the first draw, so whichever of Hypothesis and
:mod:`orderstatus.testing.strategies` is imported first, neither import is circular.
"""

from __future__ import annotations

__all__ = ["_hypothesis_setup_hook"]


def _hypothesis_setup_hook() -> None:
    """Make ``st.from_type(OrderStatus)`` and ``st.from_type(StatusHistory)`` work."""
    from hypothesis import strategies as st

    from orderstatus.models import OrderStatus

    from .history import StatusHistory

    def order_statuses() -> st.SearchStrategy[OrderStatus]:
        from .strategies import order_statuses

        return order_statuses()

    def status_histories() -> st.SearchStrategy[StatusHistory]:
        from .strategies import status_histories

        return status_histories(duplicates=True, reorder=True, unknowns=True, details=True)

    st.register_type_strategy(OrderStatus, st.deferred(order_statuses))
    st.register_type_strategy(StatusHistory, st.deferred(status_histories))
