"""The one place that asks for the time, so tests can freeze it and storage stays naive UTC."""

from __future__ import annotations

import datetime as dt
import math


def utcnow() -> dt.datetime:
    """Return the current UTC time without tzinfo, as every backend stores it alike."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def seconds_until(moment: dt.datetime | None) -> int:
    """Return the whole seconds from now until ``moment``, rounded up and at least 1.

    What a ``Retry-After`` or a "wait N seconds" says: never 0, which would invite a retry
    that is refused again; ``None`` (no known moment) is the shortest wait.
    """
    if moment is None:
        return 1
    return max(1, math.ceil((moment - utcnow()).total_seconds()))
