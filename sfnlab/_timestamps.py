"""RFC 3339 / ISO-8601 extended offset date-times, as ASL's Timestamp fields and operators want them.

AWS accepts ``2016-03-14T01:59:00Z`` and ``2016-03-14T01:59:00.123+02:00``: a ``T`` between date
and time, seconds present, an offset (``Z`` or ``±hh:mm``) required.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))"
)


def parse_timestamp(text: object) -> float | None:
    """Epoch seconds for a valid timestamp string, else None."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction = m.group(7) or ""
    if m.group(8):
        offset = timedelta(0)
    else:
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        if m.group(9) == "-":
            offset = -offset
        if int(m.group(10)) > 18 or int(m.group(11)) > 59:
            return None
    try:
        dt = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:
        return None
    return dt.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def is_timestamp(text: object) -> bool:
    return parse_timestamp(text) is not None
