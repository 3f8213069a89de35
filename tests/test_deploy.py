"""The documented deployment commands, run for real: migrate, then gunicorn with several workers."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, text

from helpers import PASSWORD, csrf_token, database_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow

#: What each JSON log line says (flask_mailproof.JSONFormatter).
JSON_KEYS = {"time", "level", "logger", "message", "account_id", "client_ip", "process"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drop_everything(url: str) -> None:
    engine = create_engine(url)
    existing = MetaData()
    existing.reflect(bind=engine)
    existing.drop_all(bind=engine)
    engine.dispose()


class Browser:
    """Enough of a browser for forms: cookies, no redirects followed, plain http."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=10) as response:
                return (
                    response.status,
                    response.headers.get("Location", ""),
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def submit(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        _, _, page = self.request(path)
        return self.request(path, {"csrf_token": csrf_token(page), **data})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: t.Any, **kwargs: t.Any) -> None:
        return None


@pytest.fixture
def served(tmp_path: Path) -> t.Iterator[tuple[str, str]]:
    """Run ``flask db upgrade`` and gunicorn as docs/deploy.md says; yield (base URL, DB URL)."""
    with serve(tmp_path) as found:
        yield found


@contextlib.contextmanager
def serve(tmp_path: Path, **settings: str) -> t.Iterator[tuple[str, str]]:
    """Serve the demo with gunicorn and ``settings`` in its environment; its output goes to
    ``tmp_path / "gunicorn.log"``."""
    url = database_url(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "MAILPROOF_BASE_URL": f"http://127.0.0.1:{port}",
        # Plain http on loopback only; behind a TLS proxy these stay at their secure default.
        "SESSION_COOKIE_SECURE": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    env.pop("FLASK_DEBUG", None)
    env.update(settings)
    drop_everything(url)
    subprocess.run(
        [BIN / "flask", "--app", "demo", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", "demo:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, server)
        yield base, url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        drop_everything(url)


def _wait_until_serving(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            with urllib.request.urlopen(base + "/", timeout=2):  # noqa: S310 - http, built here
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 30 s")


def _outbox_status(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT kind, status FROM mailproof_outbox")).all()
    engine.dispose()
    return [(kind, status) for kind, status in rows]


def test_gunicorn_serves_sign_up_with_several_workers(served):
    base, url = served
    browser = Browser(base)

    status, location, _ = browser.submit(
        "/register",
        {"email": "Deploy@Example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    assert (status, location) == (302, "/unconfirmed")
    # The worker's own delivery thread drains the outbox (started in each worker, after the fork).
    deadline = time.monotonic() + 20
    while _outbox_status(url) != [("confirm", "sent")] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _outbox_status(url) == [("confirm", "sent")]


def test_gunicorn_logs_authentication_events_with_the_client_ip(tmp_path):
    with serve(tmp_path) as (base, _):
        browser = Browser(base)
        browser.submit(
            "/register",
            {"email": "logged@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
        )
        browser.submit("/login", {"email": "logged@example.com", "password": "wrong" * 4})
        browser.submit("/login", {"email": "logged@example.com", "password": PASSWORD})

    log = (tmp_path / "gunicorn.log").read_text()
    for event in (
        "user 1 registered (client 127.0.0.1)",
        "failed login for user 1 (client 127.0.0.1)",
        "user 1 logged in (client 127.0.0.1)",
    ):
        context = r"\[account 1, client 127\.0\.0\.1\]"
        line = rf"\[INFO\] flask_mailproof\.\w+: {re.escape(event)} {context}$"
        assert re.search(line, log, re.M), log


def test_gunicorn_logs_json_lines_of_authentication_and_delivery(tmp_path):
    with serve(tmp_path, LOG_FORMAT="json") as (base, url):
        browser = Browser(base)
        browser.submit(
            "/register",
            {"email": "logged@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
        )
        browser.submit("/login", {"email": "logged@example.com", "password": "wrong" * 4})
        deadline = time.monotonic() + 20
        while _outbox_status(url) != [("confirm", "sent")] and time.monotonic() < deadline:
            time.sleep(0.2)

    lines = (tmp_path / "gunicorn.log").read_text().splitlines()
    # gunicorn's own lines stay text; every line of ours is one JSON object.
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert events, lines
    assert all(set(event) >= JSON_KEYS for event in events), events
    by_message = {event["message"]: event for event in events}
    registered = by_message["user 1 registered (client 127.0.0.1)"]
    assert registered["level"] == "INFO"
    assert registered["logger"] == "flask_mailproof.registration"
    assert (registered["account_id"], registered["client_ip"]) == (1, "127.0.0.1")
    failed = by_message["failed login for user 1 (client 127.0.0.1)"]
    assert (failed["account_id"], failed["client_ip"]) == (1, "127.0.0.1")
    [sent] = [event for event in events if event["logger"] == "flask_mailproof.delivery"]
    assert sent["message"] == "mail 1 (confirm) sent after 1 attempt(s)"
    # Delivered by a worker's thread: no request, so no client, and no account on the row.
    assert (sent["account_id"], sent["client_ip"]) == (None, None)


def test_gunicorn_with_debug_on_warns_of_the_mailbox_and_keeps_it_local(tmp_path):
    with serve(tmp_path, FLASK_DEBUG="1") as (base, _):
        status, _, _ = Browser(base).request("/_mail")

    log = (tmp_path / "gunicorn.log").read_text()
    assert re.search(r"\[WARNING\] flask_mailproof\.startup: The development mailbox is on", log)
    assert "loopback" in log
    assert status == 200
