"""Scenario 4: outbox to SMTP, in this process, against raw smtplib on the same messages."""

from __future__ import annotations

import dataclasses
import secrets
import smtplib
import time
import types

from flask import Flask
from sqlalchemy import update

from demo.models import db, models
from flask_mailproof.clock import utcnow
from flask_mailproof.mail.delivery import deliver_pending
from flask_mailproof.state import current_state

from .deploy import bulk_address, demo_app, reset_schema
from .run import Row, Run
from .smtp_sink import SmtpSink


def _drain(app: Flask, batch_size: int) -> int:
    with app.app_context():
        state = current_state()
        settings = dataclasses.replace(state.settings, delivery_batch_size=batch_size)
        sent = 0
        while True:
            report = deliver_pending(db.session(), models.outbox, state.transport, settings)
            if not report.handled:
                return sent
            sent += report.sent


def fill_outbox(app: Flask, count: int) -> list[tuple[str, str]]:
    """Write ``count`` confirmation mails to the outbox; return their recipients and texts."""
    with app.app_context():
        outbox = current_state().outbox
        for i in range(count):
            user = types.SimpleNamespace(email=bulk_address(i))
            outbox.queue(
                user.email,
                "confirm",
                {
                    "user": user,
                    "link": f"http://127.0.0.1:5000/confirm/{secrets.token_urlsafe(90)}",
                    "expires_in": "24 hours",
                },
            )
        db.session.commit()
        return [(row.recipient, row.raw) for row in db.session.query(models.outbox)]


def _requeue_all(app: Flask) -> None:
    with app.app_context():
        db.session.execute(
            update(models.outbox).values(
                status="pending", attempts=0, sent_at=None, next_attempt_at=utcnow()
            )
        )
        db.session.commit()


def delivery(run: Run) -> None:
    """Outbox to SMTP: one connection per batch, one per message, and raw smtplib."""
    count = run.options.delivery_messages
    sink = SmtpSink(0.0, run.workdir / "delivery-mail.jsonl")
    url = run.database.fresh_url("delivery")
    app = demo_app(
        url, run.secret_key, "http://127.0.0.1:5000", MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port
    )
    try:
        reset_schema(app)
        raws = fill_outbox(app, count)
        rates: dict[str, float] = {}
        for name, batch in (
            ("one connection per batch of 50", 50),
            ("one connection per message", 1),
        ):
            _requeue_all(app)
            before = sink.count()
            started = time.perf_counter()
            sent = _drain(app, batch)
            sink.wait_for(before + count, timeout=30)
            rates[name] = sent / (time.perf_counter() - started)
        before = sink.count()
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", sink.port) as client:
            for recipient, raw in raws:
                client.sendmail("no-reply@localhost", [recipient], raw.encode("ascii"))
        sink.wait_for(before + count, timeout=30)
        raw_rate = count / (time.perf_counter() - started)
    finally:
        sink.stop()
        with app.app_context():
            db.engine.dispose()
    run.data["delivery"] = {
        "messages": count,
        "raw_smtplib_per_s": round(raw_rate, 1),
        **{name: round(rate, 1) for name, rate in rates.items()},
    }
    label = "4. delivery"
    run.rows.append(
        Row(label, "raw smtplib, one connection (limit)", f"{raw_rate:.0f} msg/s", "1.00")
    )
    for name, rate in rates.items():
        run.rows.append(
            Row(label, f"outbox, {name}", f"{rate:.0f} msg/s", f"{rate / raw_rate:.2f} of raw")
        )
