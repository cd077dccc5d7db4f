"""Print API's order, payment and file statuses, where each lands, and the rule joining them.

Print API reports one status per order, a payment status once the payment screen is set up,
and a status per file of each item. An order waits in ``Created`` both while Print API works
(downloading files) and while the merchant must act (a file to upload again, a payment that
failed), so the status each item shows is decided by :func:`item_status` from all three.

Sources, named in each entry's note:

- *statuses page*: Print API's "Statuses" documentation (printapi.io/docs/statuses, also
  portal.printapi.nl/test/docs/section/statuses): the four order statuses, and the payment
  statuses Open, Successful and Cancelled with their meanings.
- *PaymentStatus model*: the resource model at
  test.printapi.nl/v1/help/resourcemodel?modelName=PaymentStatus: Open, Failed, Successful,
  Cancelled and their meanings (the statuses page leaves out Failed).
- *v2 reference*: ``GET orders/{id}`` in test.printapi.nl/v2/help/api: ``dateTime`` is the
  creation time, files carry ``DownloadPending`` or ``AwaitingUpload``, and ``checkout``
  lacks ``status`` until the payment screen is set up.
- *recorded*: answers recorded live from Print API's test environment in the public
  repository TokTok-dev/printapi-sdk, ``tests/Fixtures/Saloon/`` (commit 871a7a6): files in
  ``DownloadPending`` (``orders/POST.json``), then ``DownloadFailed`` and ``Accepted``
  (``orders/11410410/GET.json``).
- *SDK enums*: the same repository's ``src/Enums/OrderStatus.php`` and ``PaymentStatus.php``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from orderstatus import ActionReason, NativeStatus, OrderState, PaymentState

__all__ = [
    "BLOCKING_FILE_STATUSES",
    "CREATED",
    "NATIVE_STATUSES",
    "ORDER_STATUSES",
    "PAYMENT_FAILED",
    "PAYMENT_STATUSES",
    "WAITING_FILE_STATUSES",
    "item_status",
    "native_key",
]

_S = OrderState

CREATED = "Created"
"""The order status during which payment and file statuses decide (statuses page)."""
PAYMENT_FAILED = "Failed"
"""The payment status that stops a ``Created`` order on the merchant (PaymentStatus model)."""


def native_key(status: str) -> str:
    """Print API's statuses compared regardless of case and surrounding spaces."""
    return status.strip().casefold()


ORDER_STATUSES: Mapping[str, NativeStatus] = {
    CREATED: NativeStatus(
        _S.CREATED,
        note="spelling and meaning from the statuses page and the SDK enums: created, "
        "awaiting files and/or payment. While Print API works (files DownloadPending or "
        "Accepted, payment Open or none) nobody has to act; a failed payment or file shows "
        "instead (rows Failed, AwaitingUpload, DownloadFailed).",
    ),
    "Processing": NativeStatus(
        _S.IN_PRODUCTION,
        note="statuses page, SDK enums: being processed. Print API reports no finer "
        "production steps, so all of it is in_production.",
    ),
    "Shipped": NativeStatus(
        _S.SHIPPED,
        note="statuses page, SDK enums: shipped to the recipient (a trackingUrl may follow, "
        "Track & Trace page). Print API never reports delivery: shipped is the last state.",
    ),
    "Cancelled": NativeStatus(
        _S.CANCELLED,
        note="statuses page, SDK enums: the order has been cancelled; an expired payment "
        "link cancels it too (the payment then reads Cancelled).",
    ),
}
"""Print API's four order statuses."""

BLOCKING_FILE_STATUSES: Mapping[str, NativeStatus] = {
    "AwaitingUpload": NativeStatus(
        _S.ACTION_REQUIRED, ActionReason.ARTWORK,
        note="a file's status (files.content or files.cover of an item) while the order is "
        "Created; spelling from the v2 reference's GET orders/{id} example (the item also "
        "gets an uploadUrl): Print API waits for the merchant to upload the file.",
    ),
    "DownloadFailed": NativeStatus(
        _S.ACTION_REQUIRED, ActionReason.ARTWORK,
        note="a file's status while the order is Created; recorded from the test "
        "environment (TokTok-dev/printapi-sdk orders/11410410/GET.json): Print API could not "
        "download the file from its URL, so the merchant must supply it again.",
    ),
}
"""File statuses that stop a ``Created`` order on the merchant; the item shows them."""

WAITING_FILE_STATUSES: Mapping[str, str] = {
    "DownloadPending": "v2 reference and recorded POST answer: Print API has yet to download "
    "the file; nobody has to act.",
    "Accepted": "recorded (orders/11410410/GET.json, the cover beside a failed content "
    "file): the file is in; nobody has to act.",
}
"""File statuses that stop nothing: the item shows its order's status.

Any other file status of a ``Created`` order is shown as the item's status, so it reads
``unknown`` (with the raw value kept) until the table learns it.
"""

NATIVE_STATUSES: Mapping[str, NativeStatus] = {
    **ORDER_STATUSES,
    PAYMENT_FAILED: NativeStatus(
        _S.ACTION_REQUIRED, ActionReason.PAYMENT,
        note="the payment status (checkout.status) of a Created order, spelling and "
        "meaning from the PaymentStatus model and the SDK enums: the payment failed and its "
        "URL expired, so a new payment must be set up (POST checkout/{code}) and made. "
        "native_payment keeps Failed too.",
    ),
    **BLOCKING_FILE_STATUSES,
}
"""Every status a Print API order or item can show; anything else is ``unknown``."""

PAYMENT_STATUSES: Mapping[str, PaymentState] = {
    "Open": PaymentState.OPEN,  # statuses page, PaymentStatus model: awaiting the payment
    "Successful": PaymentState.PAID,  # statuses page, PaymentStatus model
    PAYMENT_FAILED: PaymentState.FAILED,  # PaymentStatus model, SDK enum (not the statuses page)
    "Cancelled": PaymentState.CANCELLED,  # the URL expired; the order is cancelled too
}
"""``checkout.status``: present only once the payment screen is set up (v2 reference)."""

_BLOCKING = frozenset(native_key(s) for s in BLOCKING_FILE_STATUSES)
_WAITING = frozenset(native_key(s) for s in WAITING_FILE_STATUSES)


def item_status(order_status: str, payment: str | None, files: Iterable[str | None]) -> str:
    """The native status an item shows: its order's, unless the order is ``Created`` and
    something stops it.

    For a ``Created`` order, in this order: the item's first blocking file status (content,
    then cover), a ``Failed`` payment, the item's first file status the table does not know
    (so it reads ``unknown``); otherwise ``Created``. Values are returned as received.
    """
    if native_key(order_status) != native_key(CREATED):
        return order_status
    known = [f for f in files if f is not None]
    blocking = next((f for f in known if native_key(f) in _BLOCKING), None)
    if blocking is not None:
        return blocking
    if payment is not None and native_key(payment) == native_key(PAYMENT_FAILED):
        return payment
    return next((f for f in known if native_key(f) not in _WAITING), order_status)
