"""Delivery latency: how long sent mail waited between being written and being accepted.

Percentiles of the last hour, computed by the database in one query, so only a handful of
numbers leave it however much mail went out: ``percentile_disc`` on PostgreSQL, ``cume_dist()``
over the hour's latencies elsewhere (SQLite 3.25+, MariaDB 10.2+). Both are nearest rank: p90
is the smallest latency that at least 90% of the mails did not exceed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from sqlalchemy import ColumnElement, Executable, Float, case, cast, func, literal_column, select
from sqlalchemy.dialects import postgresql

from ..clock import utcnow
from ..models import OutboxStatus

if t.TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..models import OutboxMixin

#: The percentiles reported.
PERCENTILES = (50, 90, 99)
#: How far back the figures look.
WINDOW = dt.timedelta(hours=1)


@dataclasses.dataclass(frozen=True)
class Latency:
    """Mails sent in a window and their latency percentiles, in seconds."""

    #: How many mails were sent in the window.
    count: int
    #: ``{50: 0.8, 90: 2.1, 99: 12.4}``; empty when nothing was sent.
    percentiles: dict[int, float]


def _seconds_between(start: t.Any, end: t.Any, dialect: str) -> ColumnElement[t.Any]:
    """Return ``end - start`` in seconds as a SQL expression (each backend spells it its way)."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    if dialect in ("mysql", "mariadb"):
        return func.timestampdiff(literal_column("MICROSECOND"), start, end) / 1e6
    raise NotImplementedError(f"delivery latency on {dialect}")


def delivery_latency(
    session: Session, model: type[OutboxMixin], *, now: dt.datetime | None = None
) -> Latency:
    """Return the latency percentiles of the mail sent in the :data:`WINDOW` before ``now``."""
    since = (now or utcnow()) - WINDOW
    dialect = session.get_bind().dialect.name
    latency = cast(_seconds_between(model.created_at, model.sent_at, dialect), Float)
    # ix_mailproof_outbox_sent (status, sent_at) keeps this to the hour's rows.
    sent = select(latency.label("latency")).where(
        model.status == OutboxStatus.SENT, model.sent_at >= since
    )
    if dialect == "postgresql":
        count, values = session.execute(_ordered_set_query(sent.subquery())).one()
    else:
        count, *values = session.execute(_cume_dist_query(sent.subquery())).one()
    if not count:
        return Latency(0, {})
    return Latency(int(count), {p: float(v) for p, v in zip(PERCENTILES, values, strict=True)})


def _cume_dist_query(sent: t.Any) -> Executable:
    """Nearest rank over a window function: the smallest latency whose share of mails at or
    below it reaches p. CASE, not FILTER: MariaDB has no aggregate FILTER clause."""
    ranked = select(
        sent.c.latency, func.cume_dist().over(order_by=sent.c.latency).label("rank")
    ).subquery()
    # The 1e-9 absorbs float rounding of k/n (9/10 must count as reaching 0.9).
    columns = [
        func.min(case((ranked.c.rank >= p / 100 - 1e-9, ranked.c.latency))) for p in PERCENTILES
    ]
    return select(func.count(), *columns).select_from(ranked)


def _ordered_set_query(sent: t.Any) -> Executable:
    """PostgreSQL's own nearest rank, ``percentile_disc``: one sort, half the window's time."""
    fractions = postgresql.array([p / 100 for p in PERCENTILES])
    percentiles = func.percentile_disc(fractions).within_group(sent.c.latency)
    return select(func.count(), percentiles.label("values")).select_from(sent)
