"""Delivery throughput to a local SMTP server: one connection per batch vs one per message.

Part of ``python -m bench.delivery``; ``--throughput-only`` runs just this.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import types
import typing as t
from pathlib import Path

from bench.mail_sink import smtp_sink
from demo import create_app
from demo.models import db
from flask_mailproof.mail.worker import drain
from flask_mailproof.state import current_state


class _PerMessageConnection:
    """Open a fresh SMTP session for every message: what sending inside each request does."""

    def __init__(self, transport: t.Any) -> None:
        self._transport = transport

    def send(self, envelope_from: str, recipient: str, raw: bytes) -> None:
        with self._transport.connect() as connection:
            connection.send(envelope_from, recipient, raw)


class PerMessageTransport:
    name = "smtp-per-message"

    def __init__(self, transport: t.Any) -> None:
        self._transport = transport

    @contextlib.contextmanager
    def connect(self) -> t.Iterator[_PerMessageConnection]:
        yield _PerMessageConnection(self._transport)


def _queue(app: t.Any, count: int) -> None:

    with app.test_request_context():
        for n in range(count):
            current_state().outbox.queue(
                f"user{n}@example.com",
                "account_exists",
                {
                    "user": types.SimpleNamespace(email=f"user{n}@example.com"),
                    "login_link": "https://bench.test/login",
                    "reset_link": None,
                },
            )
        db.session.commit()


def throughput(messages: int, per_message: bool, port: int, workdir: Path) -> float:
    """Return messages per second delivering ``messages`` queued mails to the sink."""

    database = workdir / f"throughput-{int(per_message)}.sqlite3"
    app = create_app(
        {
            "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "MAILPROOF_BASE_URL": "https://bench.test",
            "MAILPROOF_DELIVERY": "external",
            "MAILPROOF_DELIVERY_BATCH_SIZE": 50,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
        }
    )
    with app.app_context():
        db.create_all()
        state = current_state()
        if per_message:
            state.transport = PerMessageTransport(state.transport)  # type: ignore[assignment]
    _queue(app, messages)
    with app.app_context():
        started = time.perf_counter()
        report = drain()
        elapsed = time.perf_counter() - started
        db.engine.dispose()
    assert report.sent == messages, report
    return messages / elapsed


def throughput_table(messages: int, rounds: int) -> str:
    # SQLite on tmpfs where there is one: fsync per commit would otherwise hide the SMTP cost.
    shm = Path("/dev/shm")  # noqa: S108 - a private TemporaryDirectory inside it
    with (
        tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp,
        smtp_sink(0) as port,
    ):
        results: dict[bool, list[float]] = {False: [], True: []}
        for round_number in range(rounds):
            for per_message in (True, False):
                workdir = Path(tmp) / str(round_number)
                workdir.mkdir(exist_ok=True)
                results[per_message].append(throughput(messages, per_message, port, workdir))
    baseline = max(results[True])
    lines = [
        f"Delivery throughput, {messages} messages to a local aiosmtpd (SQLite outbox on tmpfs, "
        f"one commit per message), best of {rounds}:",
        "",
        "| mode | messages/s | vs one connection per message |",
        "| --- | ---: | ---: |",
        f"| one connection per message (baseline) | {baseline:.0f} | 1.00x |",
        f"| one connection per batch of 50 | {max(results[False]):.0f} | "
        f"{max(results[False]) / baseline:.2f}x |",
    ]
    return "\n".join(lines)
