"""The demo under ``flask run``, as a developer starts it: links and logs."""

from __future__ import annotations

import re

import pytest

from processes import Browser, environment, start_demo
from smtp import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def development_server(config, app, tmp_path):
    """Start ``flask run --debug --port N`` on the test's database; yield (port, process)."""
    env = environment(
        {
            "SECRET_KEY": config["SECRET_KEY"],
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "MAILPROOF_DELIVERY": "external",
            "MAILPROOF_ARGON2_MEMORY_COST": 1024,
            "MAILPROOF_ARGON2_TIME_COST": 1,
            "RATELIMIT_ENABLED": False,
            "FLASK_DEBUG": 1,
        }
    )
    for name in ("MAILPROOF_BASE_URL", "FLASK_RUN_PORT", "MAIL_SERVER"):
        env.pop(name, None)
    port = free_port()
    process = start_demo(port, env, tmp_path / "flask-run.log")
    yield port, process
    process.kill()


def test_debug_links_use_the_port_given_to_flask_run(development_server, outbox):
    port, _ = development_server
    data = {"email": "port@example.com", "password": "correct horse battery staple"}

    Browser(f"http://127.0.0.1:{port}").submit(
        "/register", {**data, "password_confirm": data["password"]}
    )

    [mail] = outbox()
    assert mail.links
    assert all(link.startswith(f"http://127.0.0.1:{port}/") for link in mail.links), mail.links


def test_flask_run_logs_authentication_events_with_the_client_ip(development_server):
    port, process = development_server
    data = {"email": "logged@example.com", "password": "correct horse battery staple"}

    Browser(f"http://127.0.0.1:{port}").submit(
        "/register", {**data, "password_confirm": data["password"]}
    )

    process.wait_for_output("registered")
    assert re.search(
        r"\[INFO\] flask_mailproof\.registration: user 1 registered \(client 127\.0\.0\.1\) "
        r"\[account 1, client 127\.0\.0\.1\]$",
        process.output(),
        re.MULTILINE,
    ), process.output()
