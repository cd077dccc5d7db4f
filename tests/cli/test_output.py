"""The command's building blocks: exit codes, JSON records, change lines (no subprocess)."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import json
import sys
import time

import pytest

from orderstatus import ActionReason, ChangeKind, OrderState, PaymentState, errors
from orderstatus.cli import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_PROVIDER,
    EXIT_USAGE,
    change_line,
    change_record,
    exit_code_for,
    status_record,
    status_table,
)
from orderstatus.cli.output import say
from orderstatus.models import ItemStatus, OrderStatus, StatusChange, Tracking
from orderstatus.tables import to_text

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("error", "code"), [
    (errors.ConfigurationError("x"), EXIT_CONFIG),
    (errors.UnknownProviderError("x"), EXIT_CONFIG),
    (errors.AuthenticationError("x"), EXIT_CONFIG),
    (errors.InvalidOrderIdError("x"), EXIT_USAGE),
    (errors.TransitionNotAllowedError("x"), EXIT_FAILED),
    (errors.UpdateNotSupportedError("x"), EXIT_FAILED),
    (errors.UpdateRejectedError("x"), EXIT_FAILED),
    (errors.OrderNotFoundError("x"), EXIT_FAILED),
    (errors.UnmappedStatusError("x"), EXIT_FAILED),
    (errors.ProviderUnavailableError("x"), EXIT_PROVIDER),
    (errors.RateLimitedError("x"), EXIT_PROVIDER),
    (errors.ResponseFormatError("x"), EXIT_PROVIDER),
    (errors.OutcomeUnknownError("x"), EXIT_PROVIDER),
])
def test_every_error_has_a_documented_exit_code(
    error: errors.OrderStatusError, code: int
) -> None:
    assert exit_code_for(error) == code


def _status(state: OrderState = OrderState.SHIPPED, **changes: object) -> OrderStatus:
    values: dict[str, object] = {
        "provider": "fakeshop", "order_id": "F-1", "state": state, "native_status": "sent",
        "payment": PaymentState.PAID, "native_payment": "paid",
        "items": (ItemStatus("F-1-0", state, "sent", None, (Tracking("UPS", "1Z", None),)),),
        "tracking": (Tracking("UPS", "1Z", None),), "provider_time": WHEN, "observed_at": WHEN,
        "raw": {"secret": "payload"},
    }
    values.update(changes)
    return OrderStatus(**values)  # type: ignore[arg-type]


def test_status_record_is_plain_json_without_the_raw_payload() -> None:
    record = status_record(_status())
    assert json.loads(json.dumps(record)) == {
        "provider": "fakeshop", "order_id": "F-1", "state": "shipped", "native_status": "sent",
        "reason": None, "payment": "paid", "native_payment": "paid",
        "items": [{"item_id": "F-1-0", "state": "shipped", "native_status": "sent",
                   "reason": None,
                   "tracking": [{"carrier": "UPS", "number": "1Z", "url": None}]}],
        "tracking": [{"carrier": "UPS", "number": "1Z", "url": None}],
        "provider_time": "2026-01-02T03:04:05+00:00",
        "observed_at": "2026-01-02T03:04:05+00:00",
        "partial": False,
    }


def test_status_table_shows_reasons_payments_and_tracking() -> None:
    held = _status(OrderState.ACTION_REQUIRED, reason=ActionReason.ADDRESS, payment=None,
                   tracking=(), order_id="F-2")
    text = to_text(status_table([_status(), held]))
    rows = [line.split() for line in text.splitlines()[4:]]
    assert rows == [
        ["fakeshop", "F-1", "shipped", "sent", "paid", "1Z"],
        ["fakeshop", "F-2", "action_required", "(address)", "sent", "—", "—"],
    ]


def test_change_lines_name_skipped_states_and_anomalies() -> None:
    status = _status()
    first = StatusChange("fakeshop", "F-1", None, OrderState.SHIPPED, (), False, status)
    jump = StatusChange("fakeshop", "F-1", OrderState.CREATED, OrderState.SHIPPED,
                        (OrderState.IN_PRODUCTION,), False, status)
    odd = StatusChange("fakeshop", "F-1", OrderState.DELIVERED, OrderState.SHIPPED, (), True,
                       status)
    assert change_line(first) == "fakeshop order 'F-1': first seen shipped (sent)"
    assert change_line(jump) == (
        "fakeshop order 'F-1': created -> shipped (sent); skipped in_production"
    )
    assert change_line(odd) == (
        "fakeshop order 'F-1': delivered -> shipped (sent); anomaly: not a lifecycle move, "
        "applied anyway"
    )


class Switching(io.StringIO):
    """A stream that lets other threads run inside every write, as a slow pipe would."""

    def write(self, text: str) -> int:
        time.sleep(0)
        written = super().write(text)
        time.sleep(0)
        return written


def test_lines_printed_from_many_threads_never_interleave(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = Switching()
    monkeypatch.setattr(sys, "stdout", stream)
    lines = [f"fakeshop order '{n}': first seen created (new)" for n in range(400)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(say, lines))
    assert sorted(stream.getvalue().splitlines()) == sorted(lines)


def test_change_lines_say_what_else_changed() -> None:
    K, S = ChangeKind, OrderState
    before = _status(S.IN_PRODUCTION, payment=PaymentState.OPEN, tracking=(), items=(
        ItemStatus("1", S.IN_PRODUCTION, "making"), ItemStatus("2", S.IN_PRODUCTION, "making")))
    after = _status(S.IN_PRODUCTION, items=(
        ItemStatus("1", S.SHIPPED, "sent"), ItemStatus("2", S.IN_PRODUCTION, "making")))
    change = StatusChange("fakeshop", "F-1", S.IN_PRODUCTION, S.IN_PRODUCTION, (), False, after,
                          frozenset({K.PAYMENT, K.TRACKING, K.ITEMS}), before, 42)
    assert change_line(change) == (
        "fakeshop order 'F-1': payment open -> paid; tracking 1Z; "
        "items 1 shipped, 2 in_production"
    )
    held = _status(S.ACTION_REQUIRED, reason=ActionReason.ADDRESS)
    fixed = _status(S.ACTION_REQUIRED, reason=ActionReason.ARTWORK)
    reason = StatusChange("fakeshop", "F-1", S.ACTION_REQUIRED, S.ACTION_REQUIRED, (), False,
                          fixed, frozenset({K.STATE}), held, 43)
    assert change_line(reason) == (
        "fakeshop order 'F-1': action_required (address) -> action_required (artwork) (sent)"
    )
    record = json.loads(json.dumps(change_record(change)))
    assert (record["id"], record["kinds"], record["previous"], record["current"]) == (
        42, ["items", "payment", "tracking"], "in_production", "in_production")
    assert record["previous_status"]["payment"] == "open"
    assert "raw" not in record["status"]
