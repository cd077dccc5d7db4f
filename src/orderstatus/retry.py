"""When to try a request again, and how long to wait: pure decisions, no I/O."""

from __future__ import annotations

import datetime as dt
import random

import attrs

__all__ = ["RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """How hard the client tries.

    By default up to 4 attempts and 30 s in all per call, exponential backoff with full
    jitter from 0.5 s up to 8 s, and a provider's ``Retry-After`` honoured up to 60 s.
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    """Attempts per call, the first included."""
    total: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    """Seconds a call may spend in all, waits included."""
    backoff: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    """First backoff; doubles each attempt."""
    backoff_max: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    """Longest backoff between two attempts (``Retry-After`` aside)."""
    retry_after_max: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    """Longest ``Retry-After`` honoured; a longer one ends the call at once."""

    def delay(self, attempt: int, retry_after: float | None, elapsed: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up.

        Args:
            attempt: attempts made so far (1 after the first).
            retry_after: the provider's ``Retry-After`` in seconds, if it sent one.
            elapsed: seconds spent on this call so far.
        """
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            if retry_after > self.retry_after_max:
                return None
            wait = retry_after
        else:
            ceiling = min(self.backoff_max, self.backoff * 2 ** (attempt - 1))
            wait = random.uniform(ceiling / 2, ceiling)
        if elapsed + wait > self.total:
            return None
        return wait


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        seconds = (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN or inf
        return None
    return max(0.0, seconds)
