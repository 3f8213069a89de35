"""The one place that asks for the time, so tests can freeze it and storage stays naive UTC."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Return the current UTC time without tzinfo, as every backend stores it alike."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
