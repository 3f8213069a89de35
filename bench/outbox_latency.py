"""What ``flask mailproof outbox`` costs on a large outbox: the latency percentiles and the view.

Run by hand, not by the harness (it starts no server)::

    python -m bench.outbox_latency                       # SQLite, in a temporary file
    python -m bench.outbox_latency --database postgresql+psycopg://postgres@127.0.0.1/bench

Loads ``--rows`` outbox rows (sent, with a few pending and failed) in two shapes: a day's mail,
of which 1/24 was sent in the last hour, and a burst, all of it sent in the last hour (every
row in the percentile's sort). Prints a markdown table of the median of ``--repeats`` timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import secrets
import statistics
import tempfile
import time
import typing as t
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from demo.models import db, models
from flask_mailproof.mail.latency import delivery_latency

from .deploy import demo_app, insert_rows, reset_schema, settle_database

#: Hours over which a shape's mail was sent: a day, or the last hour only.
SHAPES = {"a day's mail": 24.0, "all in the last hour": 1.0}
_COLUMNS = (
    "id",
    "message_id",
    "kind",
    "recipient",
    "subject",
    "raw",
    "status",
    "created_at",
    "next_attempt_at",
    "attempts",
    "sent_at",
)


def load_outbox(app: Flask, rows: int, hours: float, now: dt.datetime) -> None:
    """Fill the outbox with ``rows`` mails written over the ``hours`` before ``now``."""
    rng = random.Random(16)
    data = []
    for i in range(1, rows + 1):
        sent_at = now - dt.timedelta(seconds=rng.uniform(0, hours * 3600))
        # Mostly a second or less, with a long tail (retries after a slow or refusing server).
        waited = dt.timedelta(seconds=rng.lognormvariate(-0.5, 1.2))
        status = rng.choices(("sent", "pending", "failed"), (98, 1, 1))[0]
        data.append(
            (
                i,
                f"<{i}@bench.example>",
                "confirm",
                f"user{i}@bench.example",
                "Confirm your email address",
                "Subject: Confirm your email address\r\n\r\n(body)\r\n",
                status,
                sent_at - waited,
                sent_at,
                1,
                sent_at if status == "sent" else None,
            )
        )
    with app.app_context():
        table = str(models.outbox.__table__.name)
        for start in range(0, rows, 50_000):
            insert_rows(db.engine, table, _COLUMNS, data[start : start + 50_000])


def _median_ms(action: t.Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def _outbox_view(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["mailproof", "outbox"])
    if result.exit_code != 0:
        raise RuntimeError(result.output)


def measure(url: str, rows: int, repeats: int) -> list[str]:
    """Return the table rows for one database."""
    app = demo_app(url, secrets.token_hex(32), "http://127.0.0.1:5000")
    lines = []
    for shape, hours in SHAPES.items():
        reset_schema(app)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        load_outbox(app, rows, hours, now)
        settle_database(app, models.outbox)
        with app.app_context():
            found = delivery_latency(db.session(), models.outbox)
            query = _median_ms(lambda: delivery_latency(db.session(), models.outbox), repeats)
            db.session.rollback()
        whole = _median_ms(lambda: _outbox_view(app), repeats)
        figures = " / ".join(f"{found.percentiles[p]:.2f}" for p in (50, 90, 99))
        lines.append(
            f"| {make_url(url).get_backend_name()} | {rows:,} | {shape} | "
            f"{found.count:,} | {query:.1f} | {whole:.1f} | {figures} |"
        )
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", action="append", help="SQLAlchemy URL (repeatable).")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        urls = options.database or [f"sqlite:///{Path(workdir) / 'outbox.sqlite3'}"]
        print(
            "| database | outbox rows | shape | sent in the last hour | percentiles (ms) "
            "| whole `outbox` view (ms) | p50 / p90 / p99 (s) |"
        )
        print("| --- | ---: | --- | ---: | ---: | ---: | --- |")
        for url in urls:
            for line in measure(url, options.rows, options.repeats):
                print(line, flush=True)


if __name__ == "__main__":
    main()
