"""Gooten's item statuses, where each lands in the canonical lifecycle, and its update rules.

Sources: Gooten's "Update Order Status" page and the statuses gathered in the project's
provider facts. Spellings marked *confirmed* are documented JSON values; the others were seen
as display names, so they are matched case-insensitively and ignoring spaces.
"""

from __future__ import annotations

from collections.abc import Mapping

from orderstatus import ActionReason, NativeStatus, OrderState, PaymentState, UpdateRules

__all__ = [
    "NATIVE_STATUSES",
    "PAYMENT_STATUSES",
    "UNMAPPED",
    "UPDATE_RULES",
    "native_key",
]

_S = OrderState
_R = ActionReason

_ALIASES: Mapping[str, str] = {
    "canceled": "cancelled",
    "cancelledrefunded": "canceledrefunded",
    "readyforimagedi": "readyforimagedl",
}
"""Known misspellings of one status, folded onto the documented spelling's key."""


def native_key(status: str) -> str:
    """Gooten's statuses compared case-insensitively, ignoring spaces and known misspellings.

    ``In Production``, ``InProduction`` and ``inproduction`` are one status; so are
    ``Canceled`` and ``Cancelled``, and the docs' one-off typo ``ReadyForImageDI`` and
    ``ReadyForImageDl``.
    """
    key = "".join(status.split()).casefold()
    return _ALIASES.get(key, key)


def _confirmed(state: OrderState, why: str, reason: ActionReason | None = None) -> NativeStatus:
    return NativeStatus(state, reason, note=f"JSON spelling confirmed by Gooten's docs; {why}")


def _display(state: OrderState, why: str, reason: ActionReason | None = None) -> NativeStatus:
    return NativeStatus(
        state, reason,
        note=f"seen as a display name, JSON spelling unconfirmed (matched ignoring case and "
        f"spaces); {why}",
    )


_CANCELLED = _confirmed(
    _S.CANCELLED,
    "the item will not be made. `Canceled` (one l, the admin UI's spelling) is the same status.",
)

NATIVE_STATUSES: Mapping[str, NativeStatus] = {
    "New": _confirmed(_S.CREATED, "received, nothing done yet."),
    "Pending": _confirmed(_S.CREATED, "waiting to be processed; nobody has to act."),
    "ReadyForAccounting": _confirmed(
        _S.CREATED, "waiting for Gooten's own billing step; nobody has to act."
    ),
    "PaymentProcessing": _display(
        _S.CREATED, "payment is being taken, still before production; nobody has to act."
    ),
    "PrePayment": _display(_S.CREATED, "waiting for prepayment, still before production."),
    "ReadyForImageDl": _confirmed(
        _S.CREATED,
        "artwork is about to be downloaded, still before production. The docs' one-off "
        "typo `ReadyForImageDI` is matched as this status.",
    ),
    "Hold": _confirmed(
        _S.ON_HOLD,
        "held on purpose. Not an update source: a held order cannot be released through "
        "the API.",
    ),
    "AddressIssue": _confirmed(
        _S.ACTION_REQUIRED, "the shipping address must be fixed.", _R.ADDRESS
    ),
    "ImageIssue": _confirmed(_S.ACTION_REQUIRED, "the artwork must be fixed.", _R.ARTWORK),
    "HoldByCIImageIssue": _confirmed(
        _S.ACTION_REQUIRED, "held by Gooten's image checks; the artwork must be fixed.",
        _R.ARTWORK,
    ),
    "AccountingIssue": _confirmed(
        _S.ACTION_REQUIRED, "billing failed; the partner's account must be fixed.", _R.PAYMENT
    ),
    "PaymentIssue": _confirmed(
        _S.ACTION_REQUIRED, "payment failed; the partner must pay.", _R.PAYMENT
    ),
    "NeedsManualApproval": _confirmed(
        _S.ACTION_REQUIRED, "someone must approve the order.", _R.APPROVAL
    ),
    "NeedsPersonalization": _confirmed(
        _S.ACTION_REQUIRED, "personalization data is missing.", _R.PERSONALIZATION
    ),
    "NeedsCustomization": _confirmed(
        _S.ACTION_REQUIRED,
        "customization is missing; the same kind of gap as personalization.",
        _R.PERSONALIZATION,
    ),
    "InProduction": _display(_S.IN_PRODUCTION, "shown as `In Production`."),
    "ManuallyInProduction": _display(
        _S.IN_PRODUCTION, "shown as `Manually In Production`: moved to production by hand."
    ),
    "Printing": _display(_S.IN_PRODUCTION, "being printed."),
    "Shipped": _display(_S.SHIPPED, "handed to the carrier."),
    "OutForDelivery": _display(
        _S.SHIPPED, "shown as `Out For Delivery`: still travelling, not yet delivered."
    ),
    "Delivered": _display(_S.DELIVERED, "the carrier reported delivery."),
    "Cancelled": _CANCELLED,
    "Canceled": _CANCELLED,
    "CanceledRefunded": _display(
        _S.CANCELLED,
        "shown as `Canceled Refunded`: cancelled, and the refund is reported as the "
        "order's payment (`refunded`).",
    ),
    "Test": _confirmed(
        _S.TEST, "the order was placed in test mode (`IsInTestMode`) and is never made."
    ),
}
"""Every Gooten item status orderstatus maps; anything else is ``unknown`` (raw kept)."""

PAYMENT_STATUSES: Mapping[str, PaymentState] = {
    "CanceledRefunded": PaymentState.REFUNDED,
    "BilledRefunded": PaymentState.REFUNDED,
}
"""Item statuses that say something about money.

Gooten has no order-level payment status: an order's ``native_payment`` is the first item
status (in payload order) found here, so an order with a refunded item reads ``refunded``.
"""

UNMAPPED: Mapping[str, str] = {
    "VendorAPIIssue": "a problem between Gooten and one of its print vendors: no documented "
    "meaning for the partner, nor who must act, so it stays unknown (raw value kept).",
    "Billed Refunded": "billed, then refunded: whether the item was made, cancelled or "
    "delivered is not said, so its state stays unknown; its payment reads refunded.",
}
"""Statuses seen in Gooten's material that are deliberately left unmapped, and why."""

UPDATE_RULES = UpdateRules(
    sources=frozenset({
        "AccountingIssue", "AddressIssue", "HoldByCIImageIssue", "ImageIssue",
        "NeedsManualApproval", "New", "ReadyForAccounting", "ReadyForImageDl", "Pending",
    }),
    targets={
        _S.CANCELLED: "Cancelled",
        _S.CREATED: "New",
        _S.TEST: "Test",
        _S.ON_HOLD: "Hold",
    },
)
"""``POST orderstatus``: every item must be in a source status; four targets."""
