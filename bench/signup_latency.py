"""Sign-up latency under concurrent load while the SMTP server is slow, and while it is fast.

Run by hand (never part of ``make test``)::

    .venv/bin/python -m bench.signup_latency
    .venv/bin/python -m bench.signup_latency --signups 400 --concurrency 16

Each run starts the demo under gunicorn (2 workers x 4 threads, embedded delivery thread,
SQLite) and an aiosmtpd child process that answers every DATA after HOLD seconds, then
signs up accounts from CONCURRENCY threads (GET the form, POST it) and times the POSTs.
The last row is a tutorial-style app that sends the mail inside the request.
Password hashing uses cheap argon2 parameters so that the mail path, not the CPU, is measured.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.cookiejar
import itertools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from flask import g

from bench.mail_sink import ROOT, free_port, machine, smtp_sink
from demo import create_app
from demo.models import db
from flask_mailproof.mail.delivery import worker_name
from flask_mailproof.mail.worker import deliver_batch

if t.TYPE_CHECKING:
    from flask import Flask

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "correct horse battery staple"
SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789"


def inline_app() -> Flask:
    """The demo, but each request sends its own mail before it answers (as tutorials do)."""

    app = create_app({"MAILPROOF_DELIVERY": "external"})
    app.extensions["mailproof"].outbox.on_commit(lambda ids: g.setdefault("mail", []).extend(ids))

    @app.after_request
    def send_now(response: t.Any) -> t.Any:
        if ids := g.pop("mail", None):
            deliver_batch(worker_name(), only=ids)
        return response

    return app


def _create_schema(database: str) -> None:
    """Create the tables afresh (dropping the outbox and accounts of an earlier run)."""

    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database,
            "MAILPROOF_BASE_URL": "https://bench.test",
            "MAILPROOF_DELIVERY": "external",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()


@contextlib.contextmanager
def web_server(factory: str, smtp_port: int, database: str, log: Path) -> t.Iterator[str]:
    """Run gunicorn on ``factory``; yield its base URL once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database,
        "MAILPROOF_BASE_URL": "https://bench.test",
        "MAILPROOF_DELIVERY": "thread",
        "MAILPROOF_ARGON2_MEMORY_COST": "1024",
        "MAILPROOF_ARGON2_TIME_COST": "1",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "SESSION_COOKIE_SECURE": "false",
        "RATELIMIT_ENABLED": "false",
    }
    args = [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4"]
    args += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", factory]
    with log.open("ab") as output:
        server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=output, stderr=output)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/", timeout=10).close()  # noqa: S310 - http://
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    assert server.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)


def sign_up(base: str, email: str) -> float:
    """Sign ``email`` up like a browser; return the seconds the POST took."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(base + "/register", timeout=60) as page:
        match = _CSRF.search(page.read().decode())
    assert match, "no CSRF token on /register"
    data = {"csrf_token": match.group(1), "email": email, "password": PASSWORD}
    body = urllib.parse.urlencode({**data, "password_confirm": PASSWORD}).encode()
    started = time.perf_counter()
    with opener.open(base + "/register", data=body, timeout=60) as response:
        response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - started


def load(base: str, signups: int, concurrency: int, warmup: int) -> list[float | None]:
    """Sign up ``warmup`` then ``signups`` accounts from ``concurrency`` threads.

    Return each sign-up's seconds, or ``None`` where the server answered with an error.
    """
    counter = itertools.count()
    lock = threading.Lock()

    def one() -> float | None:
        with lock:
            n = next(counter)
        try:
            return sign_up(base, f"bench{n}@example.com")
        except urllib.error.HTTPError:
            return None

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: one(), range(warmup)))
        return list(pool.map(lambda _: one(), range(signups)))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(
    factory: str, hold: float, signups: int, concurrency: int, tmp: Path, database: str | None
) -> list[float | None]:
    if database is None:
        name = factory.split(":", 1)[0].replace(".", "-")
        database = f"sqlite:///{tmp / f'signup-{name}-{hold}.sqlite3'}"
    _create_schema(database)
    with (
        smtp_sink(hold) as smtp_port,
        web_server(factory, smtp_port, database, tmp / "web.log") as base,
    ):
        return load(base, signups, concurrency, warmup=concurrency * 2)


def latency_table(
    signups: int = 200,
    concurrency: int = 8,
    inline_signups: int = 48,
    database: str | None = None,
    rounds: int = 2,
) -> str:
    """Run the three configurations; return a markdown table.

    :param database: a PostgreSQL or MariaDB URL to use (its tables are dropped and made
        again for each run) instead of a fresh SQLite file.
    """
    rows = [
        ("outbox, SMTP answers at once (baseline)", "demo:create_app()", 0.0, signups),
        ("outbox, SMTP holds each message 1 s", "demo:create_app()", 1.0, signups),
        (
            "send in the request, SMTP holds 1 s",
            "bench.signup_latency:inline_app()",
            1.0,
            inline_signups,
        ),
    ]
    samples: dict[int, list[float | None]] = {index: [] for index in range(len(rows))}
    with tempfile.TemporaryDirectory() as tmp:
        # Rounds interleave the configurations, so drift in the machine's load hits all alike.
        for _ in range(rounds):
            for index, (_label, factory, hold, count) in enumerate(rows):
                samples[index] += run(factory, hold, count, concurrency, Path(tmp), database)
    results = []
    for index, (label, *_rest) in enumerate(rows):
        ok = [seconds for seconds in samples[index] if seconds is not None]
        errors = len(samples[index]) - len(ok)
        results.append((label, len(ok), errors, percentile(ok, 0.5), percentile(ok, 0.99)))
    base_p50, base_p99 = results[0][3], results[0][4]
    lines = [
        f"Sign-up latency (POST /register), {concurrency} concurrent clients, gunicorn 2x4, "
        f"{(database or 'sqlite').split(':')[0]}, {rounds} interleaved round(s):",
        "",
        "| server | sign-ups | errors | p50 ms | p99 ms | p50 vs baseline | p99 vs baseline |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, count, errors, p50, p99 in results:
        lines.append(
            f"| {label} | {count} | {errors} | {p50 * 1000:.0f} | {p99 * 1000:.0f} | "
            f"{p50 / base_p50:.2f}x | {p99 / base_p99:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signups", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--inline-signups", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL/MariaDB URL (tables are recreated)")
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    print(
        latency_table(
            args.signups, args.concurrency, args.inline_signups, args.database_url, args.rounds
        )
    )


if __name__ == "__main__":
    main()
