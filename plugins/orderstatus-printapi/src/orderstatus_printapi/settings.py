"""Print API settings."""

from __future__ import annotations

from typing import Literal

import attrs

from orderstatus import Secret

__all__ = ["BASE_URLS", "ENVIRONMENTS", "Environment", "PrintApiSettings"]

Environment = Literal["test", "live"]
ENVIRONMENTS: tuple[Environment, ...] = ("test", "live")
BASE_URLS: dict[str, str] = {
    "test": "https://test.printapi.nl/v2/",
    "live": "https://live.printapi.nl/v2/",
}
"""Where each Print API environment lives (from the official PHP client, v3)."""


def _not_empty(instance: object, attribute: attrs.Attribute[Secret], value: Secret) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen
class PrintApiSettings:
    """Credentials and environment of one Print API account.

    From the environment: ``ORDERSTATUS_PRINTAPI_CLIENT_ID``, ``…_CLIENT_SECRET``,
    ``…_ENVIRONMENT`` and ``…_BASE_URL``.
    """

    client_id: str = attrs.field(validator=attrs.validators.min_len(1))
    """The OAuth client id of the Print API account."""
    client_secret: Secret = attrs.field(converter=Secret, validator=_not_empty)
    """The OAuth client secret; prints as ``***``."""
    environment: Environment = attrs.field(
        default="test", validator=attrs.validators.in_(ENVIRONMENTS)
    )
    """``test`` (orders are never produced) or ``live``."""
    base_url: str | None = None
    """Where the API lives; when not given, follows ``environment``."""

    def __attrs_post_init__(self) -> None:
        if not self.base_url:
            # frozen: attrs documents object.__setattr__ for post-init derived values
            object.__setattr__(self, "base_url", BASE_URLS[self.environment])
