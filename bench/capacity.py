"""Scenario 4b: delivery capacity against a mail server that takes ``--smtp-delay`` per message.

One process (this one) drains an outbox with ``MAILPROOF_DELIVERY_CONCURRENCY`` 1 (one session,
as before concurrent delivery: the baseline), 8 (the default), 32 and 64; the limit is
concurrency ÷ latency. Then the same number of bare sessions with threads and ``smtplib``
against asyncio and ``aiosmtplib`` (if installed), which is how the pool's threads were chosen.
"""

from __future__ import annotations

import asyncio
import itertools
import smtplib
import threading
import time
import typing as t

from demo.models import db
from flask_mailproof.mail.worker import drain

from .delivery import fill_outbox
from .deploy import demo_app, reset_schema
from .run import Row, Run
from .smtp_sink import SmtpSink

#: Sessions per process measured; the first is the baseline every ratio is read against.
LEVELS = (1, 8, 32, 64)
#: Messages per session at each level: enough that starting up counts little.
ROUNDS = 8
#: Fewest messages a level sends.
MIN_MESSAGES = 8
#: Messages per second one process must deliver with the 1 s server (issue 16).
GOAL = 50.0
#: Envelope sender of the bare clients.
FROM = "no-reply@localhost"


def capacity(run: Run) -> None:
    """Messages/s of one process at each concurrency, and threads against an async client."""
    delay = run.options.smtp_delay
    sink = SmtpSink(delay, run.workdir / "capacity-mail.jsonl")
    url = run.database.fresh_url("capacity")
    label = f"4b. capacity, SMTP holds {delay:g} s"
    try:
        measured = {level: _drain_at(run, url, sink, level) for level in LEVELS}
        raws = _messages(run, url, sink, ROUNDS * LEVELS[-1])
        clients = _compare_clients(sink, raws, LEVELS[-1])
    finally:
        sink.stop()
    base_rate = measured[LEVELS[0]]["per_s"]
    run.data["capacity"] = {"smtp_delay_s": delay, "levels": measured, "clients": clients}
    for level, figures in measured.items():
        rate, limit = figures["per_s"], level / delay
        top = level == LEVELS[-1]
        run.rows.append(
            Row(
                label,
                f"concurrency {level}: msg/s (CPU per msg)",
                f"{rate:.1f} ({figures['cpu_ms_per_msg']:.1f} ms)",
                f"{rate / base_rate:.1f}x concurrency {LEVELS[0]}; {rate / limit:.2f} of limit",
                f"≥ {GOAL:g}/s" if top else "",
                rate >= GOAL if top else None,
            )
        )
    threads = clients["threads + smtplib"]
    for name, client in clients.items():
        ratio = "1.00" if client is threads else _client_ratio(client, threads)
        run.rows.append(
            Row(
                f"4b. {LEVELS[-1]} bare sessions, SMTP holds {delay:g} s",
                f"{name}: msg/s (CPU per msg)",
                "not installed"
                if client is None
                else f"{client['per_s']:.1f} ({client['cpu_ms_per_msg']:.2f} ms)",
                ratio,
            )
        )


def _drain_at(run: Run, url: str, sink: SmtpSink, level: int) -> dict[str, float]:
    count = max(MIN_MESSAGES, ROUNDS * level)
    app = _app(run, url, sink, MAILPROOF_DELIVERY_CONCURRENCY=level)
    reset_schema(app)
    fill_outbox(app, count)
    cpu, started = time.process_time(), time.perf_counter()
    with app.app_context():
        report = drain()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    with app.app_context():
        db.engine.dispose()
    run.log(f"capacity: concurrency {level}, {report.sent} of {count} sent in {wall:.1f}s")
    return {
        "messages": count,
        "sent": report.sent,
        "wall_s": round(wall, 2),
        "per_s": round(report.sent / wall, 1),
        "cpu_ms_per_msg": round(cpu * 1000 / max(report.sent, 1), 2),
    }


def _app(run: Run, url: str, sink: SmtpSink, **config: t.Any) -> t.Any:
    return demo_app(
        url,
        run.secret_key,
        "http://127.0.0.1:5000",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=sink.port,
        **config,
    )


def _messages(run: Run, url: str, sink: SmtpSink, count: int) -> list[tuple[str, bytes]]:
    app = _app(run, url, sink)
    reset_schema(app)
    raws = fill_outbox(app, count)
    with app.app_context():
        db.engine.dispose()
    return [(recipient, raw.encode("ascii")) for recipient, raw in raws]


def _compare_clients(
    sink: SmtpSink, raws: list[tuple[str, bytes]], concurrency: int
) -> dict[str, dict[str, float] | None]:
    """Send ``raws`` over ``concurrency`` sessions: threads and smtplib, asyncio and aiosmtplib."""
    found: dict[str, dict[str, float] | None] = {}
    for name, send in (
        ("threads + smtplib", _with_threads),
        ("asyncio + aiosmtplib", _with_asyncio),
    ):
        cpu, started = time.process_time(), time.perf_counter()
        if not send(sink.port, raws, concurrency):
            found[name] = None
            continue
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        found[name] = {
            "per_s": round(len(raws) / wall, 1),
            "cpu_ms_per_msg": round(cpu * 1000 / len(raws), 3),
        }
    return found


def _client_ratio(figures: dict[str, float] | None, threads: dict[str, float] | None) -> str:
    if figures is None or threads is None:
        return ""
    return (
        f"{figures['per_s'] / threads['per_s']:.2f} msg/s, "
        f"{figures['cpu_ms_per_msg'] / threads['cpu_ms_per_msg']:.2f} CPU of threads"
    )


def _with_threads(port: int, raws: list[tuple[str, bytes]], concurrency: int) -> bool:
    line = iter(raws)
    lock = threading.Lock()

    def sender() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            while True:
                with lock:
                    item = next(line, None)
                if item is None:
                    return
                client.sendmail(FROM, [item[0]], item[1])

    senders = [threading.Thread(target=sender) for _ in range(concurrency)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    return True


def _with_asyncio(port: int, raws: list[tuple[str, bytes]], concurrency: int) -> bool:
    try:
        # In the bench extra only: the test suite imports the harness without it.
        import aiosmtplib
    except ImportError:
        return False
    line = iter(raws)

    async def sender() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=30)
        await client.connect()
        try:
            # One event loop thread: taking the next item needs no lock.
            for recipient, raw in line:
                await client.sendmail(FROM, [recipient], raw)
        finally:
            await client.quit()

    async def all_senders() -> None:
        await asyncio.gather(*(sender() for _ in itertools.repeat(None, concurrency)))

    asyncio.run(all_senders())
    return True
