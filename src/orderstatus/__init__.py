"""orderstatus: one canonical order lifecycle over many print-on-demand providers."""

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
from .models import FeedPage, FetchFailure, ItemStatus, OrderStatus, Secret, StatusChange, Tracking
from .plugins import PluginFailure, Registry, default_registry
from .provider import (
    Capabilities,
    NativeStatus,
    ParsedItem,
    ParsedOrder,
    Provider,
    UpdateRules,
    check_order_id,
)
from .retry import RetryPolicy

if TYPE_CHECKING:
    from .stores import HistoryEntry, MemoryStore, Outcome, SQLiteStore, Store
    from .tracking import Tracker
    from .watch import Watcher
    from .webhooks import WebhookReceiver, WebhookResponse, webhook_app


# Imported on first use, so that ``import orderstatus`` stays light (no sqlite3, no receiver).
_LAZY = {
    "HistoryEntry": "stores",
    "MemoryStore": "stores",
    "Outcome": "stores",
    "SQLiteStore": "stores",
    "Store": "stores",
    "Tracker": "tracking",
    "Watcher": "watch",
    "WebhookReceiver": "webhooks",
    "WebhookResponse": "webhooks",
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
    "Client",
    "ConfigurationError",
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
    "webhook_app",
]
