"""``--since`` / ``?since=``: epoch seconds, an ISO 8601 date or time (UTC unless it says), or a
relative age like ``90s``, ``15m``, ``2h``, ``7d``."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(value: str, now: float | None = None) -> float:
    value = value.strip()
    now = time.time() if now is None else now
    m = _AGE.match(value)
    if m:
        return now - float(m[1]) * _UNIT[m[2]]
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read {value!r} as a time: use epoch seconds, ISO 8601 or an age like 2h") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()
