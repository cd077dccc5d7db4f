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
    ``scaffold`` a new plugin's skeleton; ``testing`` the testing kit (its modules without a
    leading underscore); ``cli`` the ``orderstatus`` command (its ``main``).

Internal (importable, but may change in any release):
    ``_operations`` the use cases every client call runs; ``_exchange`` the HTTP exchange
    (retries, budget, status -> error); ``_context`` the error context errors are built in;
    ``_redaction`` credentials out of texts and logs; ``mapping`` native -> canonical statuses;
    ``settings`` settings from mappings and the environment; the ``cli`` package's modules;
    every ``testing._*`` module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors, lifecycle
from ._version import __version__
from .client import AsyncClient, Client, OrderRef
from .errors import (
    AuthenticationError,
    ConfigurationError,
    FeedNotSupportedError,
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
    UpdateRules,
    UpdateVerdict,
    check_order_id,
)
from .retry import RetryPolicy

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'orderstatus' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


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
    "RateLimitedError",
    "Registry",
    "ResponseFormatError",
    "RetryPolicy",
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
