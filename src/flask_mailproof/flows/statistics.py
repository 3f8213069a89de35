"""How many people confirm, and how fast: per registration week."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics

from sqlalchemy import select

from ..state import current_state


@dataclasses.dataclass(frozen=True)
class WeekStats:
    """Confirmation figures for the accounts registered in one ISO week."""

    week: str
    registered: int
    confirmed: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def share_confirmed(self) -> float:
        return self.confirmed / self.registered if self.registered else 0.0


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def summarise(rows: list[tuple[dt.datetime, dt.datetime | None]], week: str) -> WeekStats:
    """Summarise ``(registered_at, confirmed_at)`` pairs."""
    delays = sorted(
        (confirmed - registered).total_seconds() for registered, confirmed in rows if confirmed
    )
    return WeekStats(
        week=week,
        registered=len(rows),
        confirmed=len(delays),
        median_seconds=statistics.median(delays) if delays else None,
        p90_seconds=_percentile(delays, 0.9),
    )


def confirmation_stats() -> tuple[WeekStats, list[WeekStats]]:
    """Return the totals and one :class:`WeekStats` per registration week, oldest first."""
    state = current_state()
    model = state.models.user
    rows = list(state.db.session.execute(select(model.registered_at, model.confirmed_at)))
    by_week: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for registered, confirmed in rows:
        year, week, _ = registered.isocalendar()
        by_week.setdefault(f"{year}-W{week:02d}", []).append((registered, confirmed))
    weeks = [summarise(by_week[key], key) for key in sorted(by_week)]
    return summarise([(r, c) for r, c in rows], "all"), weeks
