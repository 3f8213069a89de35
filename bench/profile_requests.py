"""Profile the sign-up form, a sign-up, a mailed link's page and its button with pyinstrument.

``make bench-profile`` or ``python -m bench.profile_requests [--repeat N] [--html DIR]``.
The demo runs with production settings (argon2id defaults, delivery off the request path)
on a fresh SQLite file, or ``--database-url``; the Flask test client sends the requests, so
the profile holds the application's work and none of the HTTP server's.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

from flask import Flask
from pyinstrument import Profiler

from .deploy import bulk_address, bulk_load_users, confirm_tokens, demo_app, reset_schema
from .load import CSRF_FIELD


def _app(database_url: str) -> Flask:
    # As the served demos of bench.deploy: plain HTTP, and no limiter (every request comes from
    # one address, and rate limits are not what is profiled).
    app = demo_app(
        database_url,
        "bench-" + secrets.token_hex(32),
        "http://127.0.0.1:5000",
        SESSION_COOKIE_SECURE=False,
        RATELIMIT_ENABLED=False,
    )
    reset_schema(app)
    return app


def profile(app: Flask, repeat: int, html: Path | None) -> None:
    client = app.test_client()
    page = client.get("/register")
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match is not None
    csrf = match.group(1)
    with app.app_context():
        from_state = app.extensions["mailproof"].passwords.hash("bench: bulk user password")
    # Each kind runs 2 * repeat + 1 times: once to warm up, repeat times unprofiled (the CPU
    # time to quote: the profiler's sampling adds its own), repeat times profiled.
    users = 2 * repeat + 1
    bulk_load_users(app, 1_000_000, users, from_state)
    tokens = confirm_tokens(app, range(1_000_000, 1_000_000 + users), from_state)

    def open_form(i: int) -> None:
        reply = client.get("/register")
        assert reply.status_code == 200, reply.status_code

    def signup(i: int) -> None:
        password = secrets.token_urlsafe(18)
        reply = client.post(
            "/register",
            data={
                "email": f"profile{i}@bench.example",
                "password": password,
                "password_confirm": password,
                "csrf_token": csrf,
            },
        )
        assert reply.status_code == 302, reply.status_code

    def open_page(i: int) -> None:
        reply = client.get(f"/confirm/{tokens[i]}")
        assert reply.status_code == 200, reply.status_code

    def click(i: int) -> None:
        reply = client.post(f"/confirm/{tokens[i]}", data={"csrf_token": csrf})
        assert reply.status_code == 302, reply.status_code

    # The link's page (GET) before its button (POST): the GET changes nothing.
    kinds = (
        ("sign-up form", open_form),
        ("sign-up", signup),
        ("confirmation page", open_page),
        ("confirmation click", click),
    )
    for name, request in kinds:
        request(2 * repeat)  # warm: templates compiled, connections open
        cpu_started = time.process_time()
        for i in range(repeat, 2 * repeat):
            request(i)
        unprofiled = (time.process_time() - cpu_started) / repeat
        profiler = Profiler(interval=0.0005)
        started, cpu_started = time.perf_counter(), time.process_time()
        profiler.start()
        for i in range(repeat):
            request(i)
        profiler.stop()
        each = (time.perf_counter() - started) / repeat
        cpu = (time.process_time() - cpu_started) / repeat
        # Wall time above CPU time is waiting: for the disk, or for a core on a busy machine.
        print(
            f"\n=== {name}: {unprofiled * 1000:.2f} ms CPU each unprofiled; profiled, "
            f"{repeat} request(s), {each * 1000:.1f} ms wall and {cpu * 1000:.1f} ms CPU each ==="
        )
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if html is not None:
            html.mkdir(parents=True, exist_ok=True)
            (html / f"{name.replace(' ', '-')}.html").write_text(profiler.output_html())
    print(f"bulk user example: {bulk_address(1_000_000)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_requests", description=__doc__)
    parser.add_argument("--repeat", type=int, default=10, help="requests of each kind profiled")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--html", type=Path, help="also write pyinstrument HTML pages here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mailproof-profile-") as workdir:
        url = args.database_url or f"sqlite:///{Path(workdir) / 'profile.sqlite3'}"
        profile(_app(url), args.repeat, args.html)


if __name__ == "__main__":
    main()
