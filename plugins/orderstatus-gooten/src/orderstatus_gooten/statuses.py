"""Gooten's item statuses, where each lands in the canonical lifecycle, and its update rules.

Every entry's note says where its JSON spelling and its meaning come from:

- *update page*: Gooten's "Update Order Status" API page (gooten.com/api-documentation), whose
  lists of update sources and targets are the only documented JSON spellings.
- *meanings article*: Gooten's support article "What does each order status mean?"
  (support.gooten.com, solutions article 36000021347): display names (``Out For Delivery``,
  ``Pre-Payment``, ``Hold By Image Issue``) and what each means.
- *help centre*: help.gooten.com, "Order statuses" and "Order issues".
- *article titles*: Gooten's support folder "Order Statuses" (support.gooten.com, folder
  36000180804), whose titles write ``NeedsManualApproval``, ``PaymentProcessing``,
  ``AddressIssue`` and ``VendorAPIIssue`` as the API does.
- *samples*: ``"Status": "New"`` in the webhook help page's sample, ``"Status": "Test"`` in
  the gooten-js README's ``getOrder`` answer (github.com/printdotio/gooten-js).

A spelling seen only as a display name is matched ignoring case, spaces and hyphens, so the
JSON value (``OutForDelivery`` or ``Out For Delivery``) reads either way; the raw string is
always kept.
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
    "holdbyimageissue": "holdbyciimageissue",
}
"""Other spellings of one status, folded onto the key of the spelling in the table."""


def native_key(status: str) -> str:
    """Gooten's statuses compared case-insensitively, ignoring spaces, hyphens and known
    misspellings.

    ``Out For Delivery``, ``OutForDelivery`` and ``outfordelivery`` are one status; so are
    ``Pre-Payment`` and ``PrePayment``, ``Canceled`` and ``Cancelled``, the display name
    ``Hold By Image Issue`` and ``HoldByCIImageIssue``, and the docs' one-off typo
    ``ReadyForImageDI`` and ``ReadyForImageDl``.
    """
    key = "".join(status.replace("-", " ").split()).casefold()
    return _ALIASES.get(key, key)


_UPDATE = "JSON spelling from the update page"
_DISPLAY = ("seen as the display name {shown!r} (meanings article), JSON spelling "
            "unconfirmed: matched ignoring case, spaces and hyphens")


def _status(state: OrderState, *, spelling: str, meaning: str,
            reason: ActionReason | None = None) -> NativeStatus:
    return NativeStatus(state, reason, note=f"{spelling}; {meaning}")


def _shown(name: str) -> str:
    return _DISPLAY.format(shown=name)


_CANCELLED = _status(
    _S.CANCELLED, spelling=f"{_UPDATE} (a target); `Canceled`, one l, is the meanings "
    "article's and the admin's spelling",
    meaning="meanings article: the order has been canceled, usually by you updating the "
    "status. The item will not be made.",
)

NATIVE_STATUSES: Mapping[str, NativeStatus] = {
    "New": _status(
        _S.CREATED, spelling=f"{_UPDATE}, and the webhook sample's",
        meaning="meanings article: the order has just been submitted.",
    ),
    "Pending": _status(
        _S.CREATED, spelling=_UPDATE,
        meaning="meanings article: a wait period in which you can still make changes; the "
        "order goes to production by itself afterwards. Nobody has to act.",
    ),
    "ReadyForAccounting": _status(
        _S.CREATED, spelling=_UPDATE,
        meaning="meanings article: queued for Gooten to check and process the payment "
        "manually. Gooten acts, not you.",
    ),
    "PaymentProcessing": _status(
        _S.ACTION_REQUIRED, reason=_R.PAYMENT,
        spelling="JSON spelling from the article titles ('Why is my order stuck in the "
        "PaymentProcessing status?')",
        meaning="meanings article: Gooten is missing your billing address, card or PayPal "
        "details; you must add them under Settings, Billing.",
    ),
    "PrePayment": _status(
        _S.CREATED, spelling=_shown("Pre-Payment"),
        meaning="meanings article: PayPal was chosen but the transaction is not completed. "
        "Read as still waiting for the payment, before production (the article does not "
        "say who must finish it).",
    ),
    "ReadyForImageDl": _status(
        _S.CREATED,
        spelling=f"{_UPDATE}; the docs' one-off typo `ReadyForImageDI` is matched as this "
        "status",
        meaning="help centre: the images are about to be downloaded, usually within a "
        "minute. Nobody has to act.",
    ),
    "Hold": _status(
        _S.ON_HOLD, spelling=f"{_UPDATE} (a target, not a source)",
        meaning="meanings article: placed on hold by you or Gooten's support team. A held "
        "order cannot be released through the API.",
    ),
    "AddressIssue": _status(
        _S.ACTION_REQUIRED, reason=_R.ADDRESS, spelling=f"{_UPDATE}, and the article titles'",
        meaning="meanings article: the customer's address could not be verified; it must be "
        "fixed (help centre: cancelled by Gooten after 40 days).",
    ),
    "ImageIssue": _status(
        _S.ACTION_REQUIRED, reason=_R.ARTWORK, spelling=_UPDATE,
        meaning="meanings article: a problem with the image keeps the order out of "
        "production; the artwork must be fixed.",
    ),
    "HoldByCIImageIssue": _status(
        _S.ACTION_REQUIRED, reason=_R.ARTWORK,
        spelling=f"{_UPDATE}; its display name 'Hold By Image Issue' is matched as this "
        "status",
        meaning="meanings article: the manufacturer grouped items and holds the whole group "
        "because one of them has an image issue; that artwork must be fixed.",
    ),
    "AccountingIssue": _status(
        _S.ACTION_REQUIRED, reason=_R.PAYMENT, spelling=_UPDATE,
        meaning="not explained in the articles above; read from its name as billing having "
        "failed, so the partner's account must be fixed.",
    ),
    "PaymentIssue": _status(
        _S.ACTION_REQUIRED, reason=_R.PAYMENT, spelling=_shown("Payment Issue"),
        meaning="meanings article: there was an error processing your payment.",
    ),
    "NeedsManualApproval": _status(
        _S.ACTION_REQUIRED, reason=_R.APPROVAL, spelling=f"{_UPDATE}, and the article titles'",
        meaning="meanings article: held for review by the Gooten team (the first orders of "
        "a new account, or 'review first' accounts); the order waits for that approval.",
    ),
    "NeedsPersonalization": _status(
        _S.ACTION_REQUIRED, reason=_R.PERSONALIZATION,
        spelling="JSON spelling from the help centre ('NeedsPersonalization is a way to go')",
        meaning="help centre: held because the partner asked for items to wait for "
        "personalization; it must be added.",
    ),
    "NeedsCustomization": _status(
        _S.ACTION_REQUIRED, reason=_R.PERSONALIZATION,
        spelling="JSON spelling from the help centre ('NeedsCustomization is a way to go')",
        meaning="help centre: held for customization, the same kind of gap as "
        "personalization.",
    ),
    "InProduction": _status(
        _S.IN_PRODUCTION, spelling=_shown("In Production"),
        meaning="meanings article: sent to the manufacturer to be produced.",
    ),
    "ManuallyInProduction": _status(
        _S.IN_PRODUCTION, spelling=_shown("Manually In Production"),
        meaning="meanings article: a member of Gooten's staff pushed it into production.",
    ),
    "Printing": _status(
        _S.IN_PRODUCTION, spelling=_shown("Printing"),
        meaning="meanings article: the manufacturer received the order and is printing it.",
    ),
    "OutForDelivery": _status(
        _S.IN_PRODUCTION, spelling=_shown("Out For Delivery"),
        meaning="meanings article: packed and waiting for the courier to collect it; once "
        "collected the tracking number is entered and the status set to Shipped. So it is "
        "before shipped: still at the manufacturer.",
    ),
    "Shipped": _status(
        _S.SHIPPED, spelling=_shown("Shipped"),
        meaning="handed to the carrier (help centre: tracking links can take up to 48 hours "
        "to work).",
    ),
    "Delivered": _status(
        _S.DELIVERED, spelling=_shown("Delivered"),
        meaning="meanings article: delivered to the specified address.",
    ),
    "Cancelled": _CANCELLED,
    "Canceled": _CANCELLED,
    "CanceledRefunded": _status(
        _S.CANCELLED, spelling=_shown("Canceled Refunded"),
        meaning="meanings article: canceled, and a refund issued to you or the customer; "
        "the refund is the order's payment (refunded).",
    ),
    "BilledRefunded": _status(
        _S.CANCELLED, spelling=_shown("Billed Refunded"),
        meaning="meanings article: the order was not produced and was refunded to you; the "
        "refund is the order's payment (refunded).",
    ),
    "Test": _status(
        _S.TEST, spelling=f"{_UPDATE} (a target), and the gooten-js README sample's",
        meaning="help centre: an order placed as a test (through the API: IsInTestMode), "
        "never made.",
    ),
}
"""Every Gooten item status orderstatus maps; anything else is ``unknown`` (raw kept)."""

PAYMENT_STATUSES: Mapping[str, PaymentState] = {
    "CanceledRefunded": PaymentState.REFUNDED,
    "BilledRefunded": PaymentState.REFUNDED,
}
"""Item statuses that say something about money (meanings article: both were refunded).

Gooten has no order-level payment status: an order's ``native_payment`` is the first item
status (in payload order) found here, so an order with a refunded item reads ``refunded``.
"""

UNMAPPED: Mapping[str, str] = {
    "VendorAPIIssue": "spelling from the article titles; help centre: a temporary outage "
    "between Gooten's API and the manufacturer's, or a problem with what was submitted. "
    "Neither the state nor who must act is said, so it stays unknown (raw value kept).",
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
