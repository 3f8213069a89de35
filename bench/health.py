"""The health check and the metrics' outbox query on a 100,000-row outbox, per database.

Run by hand; prints a markdown table (docs/delivery.md, "The operator's view")::

    .venv/bin/python -m bench.health                      # SQLite only
    BENCH_POSTGRES_URL=postgresql+psycopg://... BENCH_MARIADB_URL='mysql+pymysql://...' \\
        .venv/bin/python -m bench.health --explain        # and those, with their query plans

Each database gets the extension's tables afresh (dropped at the end) and two outboxes:
``steady``, 99,000 sent, 800 failed (half within the hour), 100 due and 100 retries waiting;
``backlog``, the same with 20,000 due (a relay down for a while). The figures are the median
and 95th percentile of ``--calls`` calls: the check itself (one query), the whole
``GET /_mailproof/health`` through Flask, and a metrics scrape's outbox read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import tempfile
import time
import typing as t
from pathlib import Path

from sqlalchemy import event, insert, text

from demo import create_app
from demo.models import db, models
from flask_mailproof.clock import utcnow
from flask_mailproof.operations.metrics import OutboxCollector
from flask_mailproof.state import current_state

from .harness import machine

ROWS = 100_000
CHUNK = 5_000


def outbox_rows(total: int, due: int) -> t.Iterator[dict[str, t.Any]]:
    """Yield ``total`` rows: ``due`` due now, 100 retries later, 800 failed, the rest sent."""
    now = utcnow()
    for n in range(total):
        if n < due:
            status, at = "pending", now - dt.timedelta(seconds=n % 240)
        elif n < due + 100:
            status, at = "pending", now + dt.timedelta(minutes=10)
        elif n < due + 900:
            status, at = "failed", now - dt.timedelta(minutes=(n % 2) * 120 + 5)
        else:
            status, at = "sent", now - dt.timedelta(seconds=n)
        yield {
            "message_id": f"<{n}@bench.invalid>",
            "kind": "confirm",
            "recipient": f"user{n}@example.com",
            "subject": "Confirm your address",
            "raw": "x",
            "status": status,
            "created_at": at,
            "next_attempt_at": at,
            "attempts": 0 if status == "pending" else 1,
            "sent_at": at if status == "sent" else None,
        }


def fill(total: int, due: int) -> None:
    db.session.execute(text(f"DELETE FROM {models.outbox.__tablename__}"))
    batch: list[dict[str, t.Any]] = []
    for row in outbox_rows(total, due):
        batch.append(row)
        if len(batch) == CHUNK:
            db.session.execute(insert(models.outbox), batch)
            batch = []
    if batch:
        db.session.execute(insert(models.outbox), batch)
    db.session.commit()
    # What autovacuum (PostgreSQL) and InnoDB's persistent statistics do on their own.
    analyze = {"postgresql": "ANALYZE mailproof_outbox", "sqlite": "ANALYZE"}
    statement = analyze.get(db.engine.dialect.name, "ANALYZE TABLE mailproof_outbox")
    with db.engine.connect() as connection:
        result = connection.execute(text(statement))
        if result.returns_rows:  # MariaDB answers ANALYZE TABLE with a status table
            result.all()
        connection.commit()


def timed(call: t.Callable[[], object], calls: int) -> tuple[float, float]:
    """Return the median and the 95th percentile of ``calls`` calls, in milliseconds."""
    for _ in range(min(20, calls)):
        call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def explain(app: t.Any) -> list[str]:
    """Return the database's plan of the health check's query."""
    captured: list[tuple[str, t.Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            current_state().health.run()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        word = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
        statement, parameters = captured[0]
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f"{word} {statement}", parameters).all()
    return [" | ".join(str(v) for v in row) for row in rows]


def measure(name: str, url: str, rows: int, calls: int, show_plan: bool) -> list[str]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "MAILPROOF_BASE_URL": "https://bench.invalid",
            "MAILPROOF_DELIVERY": "external",
            "MAILPROOF_DEV_MAILBOX": False,
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    lines = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.execute(text("SELECT 1"))  # connect, so the dialect knows the version
        version = ".".join(str(part) for part in db.engine.dialect.server_version_info or ())
    client = app.test_client()
    collector = OutboxCollector(app)
    try:
        for scenario, due in (("steady", 100), ("backlog", 20_000)):
            with app.app_context():
                fill(rows, due)
                check = current_state().health.run
                check_ms = timed(check, calls)
            request_ms = timed(lambda: client.get("/_mailproof/health").close(), calls)
            scrape_ms = timed(collector.collect, max(calls // 5, 20))
            lines.append(
                f"| {name} {version} | {scenario} ({due:,} due) "
                f"| {check_ms[0]:.2f} / {check_ms[1]:.2f} | {request_ms[0]:.2f} / "
                f"{request_ms[1]:.2f} | {scrape_ms[0]:.2f} / {scrape_ms[1]:.2f} |"
            )
            if show_plan:
                with app.app_context():
                    plan = explain(app)
                print(f"\n{name}, {scenario}: plan of the health query\n  " + "\n  ".join(plan))
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per figure")
    parser.add_argument("--explain", action="store_true", help="print each query plan")
    parser.add_argument("--rows", type=int, default=ROWS, help="outbox rows (over 21,000)")
    options = parser.parse_args(argv)
    backends = [("SQLite", f"sqlite:///{Path(tempfile.mkdtemp()) / 'health.sqlite3'}")]
    for name, variable in (("PostgreSQL", "BENCH_POSTGRES_URL"), ("MariaDB", "BENCH_MARIADB_URL")):
        if os.environ.get(variable):
            backends.append((name, os.environ[variable]))
    lines = []
    for name, url in backends:
        lines += measure(name, url, options.rows, options.calls, options.explain)
    info = machine()
    print(
        f"\n{options.rows:,}-row outbox, {options.calls} calls; {info['cpu']}, "
        f"{info['cores_usable']} cores, load average {info['load_average_at_start'][0]:.1f} "
        f"at the start, Python {info['python']}; median / p95 in ms\n"
    )
    print(
        "| database | outbox | health check (one query) | GET /_mailproof/health | "
        "metrics scrape, outbox part |"
    )
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
