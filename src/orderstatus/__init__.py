"""orderstatus: one canonical order lifecycle over many print-on-demand providers.

Everything a user writes is re-exported here (``__all__``). The modules, and which are API:

Public (documented; their names are stable):
    ``lifecycle`` canonical states, the transition table, aggregation;
    ``models`` the value objects; ``errors`` the exception tree;
    ``provider`` what a provider plugin implements (``Provider``, ``UpdateRules``, …);
    ``hookspecs`` the hooks; ``plugins`` the ``Registry`` of installed plugins;
    ``client`` ``Client`` and ``AsyncClient``, the only place that sends HTTP;
    ``retry`` ``RetryPolicy``; ``tracking`` and ``stores`` the tracker and its stores;
    ``webhooks`` the receiver and its ASGI app; ``asgi`` the ASGI plumbing and ``serve``;
    ``watch`` the reconciliation sweep; ``tables`` the core's data as tables;
    ``telemetry`` the events and log fields of every request and retry;
    ``scaffold`` a new plugin's skeleton; ``testing`` the testing kit (its modules without a
    leading underscore); ``cli`` the ``orderstatus`` command (its ``main``).

Internal (importable, but may change in any release):
    ``_operations`` the use cases every client call runs; ``_exchange`` the HTTP exchange
    (retries, budget, status -> error); ``_context`` the error context errors are built in;
    ``_redaction`` credentials out of texts and logs; ``_observer`` the reports of attempts;
    ``mapping`` native -> canonical statuses; ``settings`` settings from mappings and the
    environment; the ``cli`` package's modules; every ``testing._*`` module.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import errors, lifecycle
from ._lazy import lazy_names
from ._version import __version__
from .client import AsyncClient, Client, OrderRef
from .errors import (
    AuthenticationError,
    ConfigurationError,
    FeedNotSupportedError,
    InvalidArgumentError,
    InvalidOrderIdError,
    InvalidWebhookError,
    NotSupportedError,
    OrderNotFoundError,
    OrderStatusError,
    OutcomeUnknownError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    ResponseFormatError,
    TransitionNotAllowedError,
    UnknownProviderError,
    UnmappedStatusError,
    UpdateNotSupportedError,
    UpdateRejectedError,
    UsageError,
    WebhookContentTypeError,
)
from .hookspecs import hookimpl
from .lifecycle import ActionReason, OrderState, PaymentState
from .models import (
    ChangeKind,
    FeedPage,
    FetchFailure,
    ItemStatus,
    OrderStatus,
    Secret,
    StatusChange,
    Tracking,
)
from .plugins import PluginFailure, Registry, default_registry
from .provider import (
    Capabilities,
    NativeStatus,
    ParsedItem,
    ParsedOrder,
    Provider,
    QueryAuth,
    UpdateRules,
    UpdateVerdict,
    check_order_id,
)
from .retry import RetryPolicy
from .telemetry import RequestEvent, RequestFinished, RequestSent, RetryScheduled

# A library's logger: its records go where the application sends them, and nowhere (not even
# to logging's last-resort stderr) when the application never set logging up.
logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from .stores import MemoryStore, PostgresStore, SQLiteStore, Store, open_store
    from .tracking import CheckPolicy, Consumer, HistoryEntry, Outcome, Tracker
    from .watch import Watcher
    from .webhooks import WebhookReceiver, WebhookResponse, webhook_app


# Imported on first use, so that ``import orderstatus`` stays light (no sqlite3, no receiver).
_LAZY = {
    "CheckPolicy": "tracking",
    "Consumer": "tracking",
    "HistoryEntry": "tracking",
    "MemoryStore": "stores",
    "Outcome": "tracking",
    "PostgresStore": "stores",
    "SQLiteStore": "stores",
    "Store": "stores",
    "Tracker": "tracking",
    "Watcher": "watch",
    "WebhookReceiver": "webhooks",
    "WebhookResponse": "webhooks",
    "open_store": "stores",
    "webhook_app": "webhooks",
}

__getattr__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "ActionReason",
    "AsyncClient",
    "AuthenticationError",
    "Capabilities",
    "ChangeKind",
    "CheckPolicy",
    "Client",
    "ConfigurationError",
    "Consumer",
    "FeedNotSupportedError",
    "FeedPage",
    "FetchFailure",
    "HistoryEntry",
    "InvalidArgumentError",
    "InvalidOrderIdError",
    "InvalidWebhookError",
    "ItemStatus",
    "MemoryStore",
    "NativeStatus",
    "NotSupportedError",
    "OrderNotFoundError",
    "OrderRef",
    "OrderState",
    "OrderStatus",
    "OrderStatusError",
    "Outcome",
    "OutcomeUnknownError",
    "ParsedItem",
    "ParsedOrder",
    "PaymentState",
    "PluginFailure",
    "PostgresStore",
    "Provider",
    "ProviderError",
    "ProviderUnavailableError",
    "QueryAuth",
    "RateLimitedError",
    "Registry",
    "RequestEvent",
    "RequestFinished",
    "RequestSent",
    "ResponseFormatError",
    "RetryPolicy",
    "RetryScheduled",
    "SQLiteStore",
    "Secret",
    "StatusChange",
    "Store",
    "Tracker",
    "Tracking",
    "TransitionNotAllowedError",
    "UnknownProviderError",
    "UnmappedStatusError",
    "UpdateNotSupportedError",
    "UpdateRejectedError",
    "UpdateRules",
    "UpdateVerdict",
    "UsageError",
    "Watcher",
    "WebhookContentTypeError",
    "WebhookReceiver",
    "WebhookResponse",
    "__version__",
    "check_order_id",
    "default_registry",
    "errors",
    "hookimpl",
    "lifecycle",
    "open_store",
    "webhook_app",
]
