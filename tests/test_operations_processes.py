"""The operator's view under gunicorn with two workers: metrics added up across processes
(prometheus_client's multiprocess mode, as gunicorn.conf.py sets it up) and the health check."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import PASSWORD
from processes import Browser, Process, gunicorn_environment
from smtp import free_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SIGN_UPS = 12


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - http, built here
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def totals(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(base + "/_mailproof/metrics")
    assert status == 200, body
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def serve_with_gunicorn(config, smtp, tmp_path: Path, port: int) -> Process:
    env = gunicorn_environment(
        config,
        smtp,
        port,
        2,
        MAILPROOF_METRICS_PATH="/_mailproof/metrics",
        PROMETHEUS_MULTIPROC_DIR=tmp_path / "metrics",
    )
    server = Process(
        [
            str(BIN / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            # Which worker answered each request: the pid in the access log.
            "--access-logfile",
            str(tmp_path / "access.log"),
            "--access-logformat",
            "%(p)s %(m)s %(U)s %(s)s",
            "demo:create_app()",
        ],
        env,
        tmp_path / "gunicorn.log",
    )
    deadline = time.monotonic() + 30
    while get_or_none(f"http://127.0.0.1:{port}/") is None:
        if server.popen.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise AssertionError("gunicorn did not start:\n" + server.output())
        time.sleep(0.2)
    return server


def get_or_none(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


def workers_that_answered(tmp_path: Path, method: str, path: str) -> set[str]:
    lines = (tmp_path / "access.log").read_text().splitlines()
    return {line.split()[0] for line in lines if line.split()[1:3] == [method, path]}


def sign_up(base: str, n: int) -> int:
    data = {"email": f"user{n}@example.com", "password": PASSWORD, "password_confirm": PASSWORD}
    return Browser(base).submit("/register", data)


def test_two_gunicorn_workers_add_up_their_metrics(smtp, config, app, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve_with_gunicorn(config, smtp, tmp_path, port)
    try:
        # Side by side, so both workers take sign-ups (each is busy hashing while the other
        # accepts the next).
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda n: sign_up(base, n), range(SIGN_UPS)))
        assert statuses == [200] * SIGN_UPS  # after the redirect to /unconfirmed
        deadline = time.monotonic() + 30
        while len(smtp.received) < SIGN_UPS:
            assert time.monotonic() < deadline, f"{len(smtp.received)} mails arrived"
            time.sleep(0.2)
        # The server has every mail; the worker counts one as sent once it has recorded the
        # outcome, a commit after the server's 250. That takes milliseconds, not seconds.
        deadline = time.monotonic() + 5
        while value(totals(base), "mailproof_mails_sent_total", kind="confirm") < SIGN_UPS:
            assert time.monotonic() < deadline, "sent mails not counted 5 s after they arrived"
            time.sleep(0.05)
        scrapes = [totals(base) for _ in range(6)]
        health_status, health = get(base + "/_mailproof/health")
    finally:
        server.kill(signal.SIGTERM)

    assert len(workers_that_answered(tmp_path, "POST", "/register")) == 2, "one worker did all"
    for samples in scrapes:  # whichever worker answered, the totals are everyone's
        assert value(samples, "mailproof_signups_total") == SIGN_UPS
        assert value(samples, "mailproof_mails_written_total", kind="confirm") == SIGN_UPS
        assert value(samples, "mailproof_mails_sent_total", kind="confirm") == SIGN_UPS
        assert value(samples, "mailproof_mail_delivery_seconds_count", kind="confirm") == SIGN_UPS
        assert value(samples, "mailproof_outbox_messages", status="pending") == 0
    assert health_status == 200
    assert json.loads(health)["database"] == "ok"
    assert json.loads(health)["outbox"]["due"] == 0


def test_a_dead_workers_counts_stay_counted(smtp, config, app, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve_with_gunicorn(config, smtp, tmp_path, port)
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: sign_up(base, n), range(SIGN_UPS)))
        before = value(totals(base), "mailproof_signups_total")
        # gunicorn starts another worker for each and calls child_exit.
        for pid in workers_that_answered(tmp_path, "POST", "/register"):
            os.kill(int(pid.strip("<>")), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while get_or_none(base + "/_mailproof/health") != 200:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        after = value(totals(base), "mailproof_signups_total")
    finally:
        server.kill(signal.SIGTERM)

    assert before == after == SIGN_UPS
