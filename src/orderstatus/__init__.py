"""orderstatus: one canonical order lifecycle over many print-on-demand providers."""

from __future__ import annotations

from . import errors, lifecycle
from .client import AsyncClient, Client, OrderRef
from .errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidOrderIdError,
    InvalidWebhookError,
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

__version__ = "0.1.0"

__all__ = [
    "ActionReason",
    "AsyncClient",
    "AuthenticationError",
    "Capabilities",
    "Client",
    "ConfigurationError",
    "FeedPage",
    "FetchFailure",
    "InvalidOrderIdError",
    "InvalidWebhookError",
    "ItemStatus",
    "NativeStatus",
    "OrderNotFoundError",
    "OrderRef",
    "OrderState",
    "OrderStatus",
    "OrderStatusError",
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
    "Secret",
    "StatusChange",
    "Tracking",
    "TransitionNotAllowedError",
    "UnknownProviderError",
    "UnmappedStatusError",
    "UpdateNotSupportedError",
    "UpdateRejectedError",
    "UpdateRules",
    "__version__",
    "check_order_id",
    "default_registry",
    "errors",
    "hookimpl",
    "lifecycle",
]
