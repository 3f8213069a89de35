"""Start the demo (or a Celery worker) as a real subprocess, and talk to it over HTTP."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from helpers import BASE_URL, csrf_token

ROOT = Path(__file__).resolve().parent.parent


def environment(settings: dict[str, t.Any]) -> dict[str, str]:
    """Return this process's environment plus ``settings`` as strings (JSON-like for bools)."""
    env = dict(os.environ)
    for name, value in settings.items():
        # Not a dict lookup: 1 == True, so {True: "true"}.get(1) would turn 1 into "true".
        env[name] = json.dumps(value) if isinstance(value, bool) else str(value)
    return env


def gunicorn_environment(
    config: t.Mapping[str, t.Any], smtp: t.Any, port: int, workers: int, **extra: t.Any
) -> dict[str, str]:
    """Return the environment that serves the demo as docs/deploy.md does, for tests.

    Cheap hashing, mail from each worker's thread to the test's SMTP server, plain HTTP, no
    rate limits, and no Redis: ``extra`` adds to it or overrides it.
    """
    env = environment(
        {
            "SECRET_KEY": config["SECRET_KEY"],
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "MAILPROOF_BASE_URL": BASE_URL,
            "MAILPROOF_ARGON2_MEMORY_COST": 1024,
            "MAILPROOF_ARGON2_TIME_COST": 1,
            "MAILPROOF_DELIVERY": "thread",
            "MAILPROOF_DELIVERY_INTERVAL": 0.5,
            "MAIL_SERVER": smtp.host,
            "MAIL_PORT": smtp.port,
            "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False,
            "FLASK_DEBUG": 0,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": workers,
            **extra,
        }
    )
    env.pop("REDIS_URL", None)
    return env


class Process:
    """A child process whose output goes to a file, killed at the end of the test."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._file = log.open("ab")
        # Its own process group, so a worker's pool processes go with it.
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the process group and wait; SIGKILL whatever is left after 20 s."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self._file.close()

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the output:\n" + self.output())
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_demo(port: int, env: dict[str, str], log: Path) -> Process:
    """Start the demo with ``flask run`` on ``port`` and wait until it answers."""
    process = Process(
        [sys.executable, "-m", "flask", "--app", "demo", "run", "--port", str(port), "--no-reload"],
        env,
        log,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if process.popen.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError("the demo did not start:\n" + process.output()) from None
            time.sleep(0.1)


class Browser:
    """Cookies and forms over real HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def submit(self, path: str, data: dict[str, str]) -> int:
        """GET the form at ``path`` for its CSRF token, POST ``data``; return the final status."""
        with self._opener.open(self.base + path, timeout=10) as page:
            token = csrf_token(page.read())
        body = urllib.parse.urlencode({"csrf_token": token, **data}).encode()
        with self._opener.open(self.base + path, data=body, timeout=10) as response:
            return int(response.status)
