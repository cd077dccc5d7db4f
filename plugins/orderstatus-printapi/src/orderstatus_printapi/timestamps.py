"""Print API's zone-less timestamps, read and written as Europe/Amsterdam wall-clock time.

Print API writes ``dateTime`` like ``2015-10-21T12:53:06.9931422``: up to seven fractional
digits (.NET ticks), trailing zeros left out (``…20.003``, ``…20.3`` and ``…20`` are recorded
answers), and no zone. Print API is a Dutch service, so a zone-less value is read as
Europe/Amsterdam local time (CET/CEST) and turned into an aware UTC datetime. A value that does
carry ``Z`` or an offset is taken at its word. In the hour that repeats when summer time ends,
the earlier of the two instants is chosen (``fold=0``).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

__all__ = ["PROVIDER_ZONE", "format_provider_time", "parse_provider_time"]

PROVIDER_ZONE = ZoneInfo("Europe/Amsterdam")
"""The zone a zone-less Print API timestamp is read in."""

_TIMESTAMP = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:[.,](?P<fraction>\d{1,9}))?"
    r"(?P<zone>Z|z|[+-]\d{2}:?\d{2})?"
)


def parse_provider_time(text: str) -> dt.datetime:
    """Return ``text`` as an aware UTC datetime; raise ``ValueError`` if it is not a timestamp.

    Accepts 0 to 9 fractional digits (beyond microseconds they are truncated), an optional
    ``Z`` or ``±hh:mm`` offset, and no zone (read as Europe/Amsterdam time).
    """
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None:
        raise ValueError("not a timestamp")
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    zone = match["zone"]
    offset = "+00:00" if zone in ("Z", "z") else (zone or "")
    if offset and ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    moment = dt.datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}{offset}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PROVIDER_ZONE)
    return moment.astimezone(dt.timezone.utc)


def format_provider_time(moment: dt.datetime) -> str:
    """Write an aware datetime as Print API does: Amsterdam wall-clock time, no zone, the
    fraction without trailing zeros (none at all on a whole second)."""
    if moment.tzinfo is None:
        raise ValueError("format_provider_time needs an aware datetime")
    local = moment.astimezone(PROVIDER_ZONE)
    fraction = f"{local.microsecond:06d}".rstrip("0")
    return f"{local:%Y-%m-%dT%H:%M:%S}" + (f".{fraction}" if fraction else "")
