"""Fixtures of the browser suite: the demo on a real server, Chromium, and a ``Site`` driver.

Every test here gets the ``browser`` marker and is skipped, with the reason in the summary,
when Debian's Chromium is not installed. ``.ci/install-browser`` installs it and axe-core.
"""

from __future__ import annotations

import os
import re
import threading
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from demo import create_app
from demo.models import db
from helpers import test_config

from .site import AXE_PATH, Site

#: Debian's Chromium; Playwright never downloads a browser here.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Failure screenshots land here (git-ignored).
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
_HERE = Path(__file__).resolve().parent


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return "Chromium not installed: apt-get install chromium (or run .ci/install-browser)"
    if not AXE_PATH.exists():
        return "axe-core not installed: npm ci --prefix tests/browser (or run .ci/install-browser)"
    return None


def pytest_report_header() -> str:
    reason = _skip_reason()
    return f"browser tests: SKIPPED, {reason}" if reason else f"browser tests: {CHROMIUM}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason and os.environ.get("CI") and any(_HERE in Path(i.path).parents for i in items):
        # CI must run them: a skip there would hide a missing install step behind green.
        raise pytest.UsageError(f"{reason}; CI runs .ci/install-browser before make test")
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> t.Any:
    # Keep each phase's report on the item, so fixtures can tell at teardown that a test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class _QuietHandler(WSGIRequestHandler):
    """The development server without its access log: request lines hold mailed links, and
    the suite checks that no link reaches a log (production servers: see docs/security.md)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class _Dispatcher:
    """The server's WSGI app, set once the port (and so ``MAILPROOF_BASE_URL``) is known."""

    app: Flask | None = None

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        assert self.app is not None
        return self.app(environ, start_response)


class LiveServer:
    """The demo served by werkzeug in a thread on a free port of 127.0.0.1."""

    def __init__(self, tmp_path: Path, overrides: dict[str, t.Any]) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self._dispatcher = _Dispatcher()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._dispatcher, threaded=True, request_handler=_QuietHandler
        )
        try:
            self._start(tmp_path, overrides)
        except BaseException:
            self._server.server_close()
            raise

    def _start(self, tmp_path: Path, overrides: dict[str, t.Any]) -> None:
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        config = test_config(tmp_path)
        config.update(
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'browser.sqlite3'}",
            MAILPROOF_BASE_URL=self.url,
            MAILPROOF_DELIVERY="external",
            # The browser cannot keep a Secure cookie over plain http on 127.0.0.1.
            SESSION_COOKIE_SECURE=False,
            REMEMBER_COOKIE_SECURE=False,
        )
        config.update(overrides)
        self.app = create_app(config)
        with self.app.app_context():
            db.create_all()
        self._dispatcher.app = self.app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def playwright() -> t.Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> t.Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")


@pytest.fixture
def open_site(
    request: pytest.FixtureRequest, chromium: Browser, tmp_path: Path
) -> t.Iterator[t.Callable[..., Site]]:
    """Return ``open_site(locale="en-GB", **config)``: a fresh demo and a fresh browser on it.

    ``config`` overrides the demo's settings (``MAILPROOF_RESEND_INTERVAL=0``...). Every page
    the returned :class:`Site` loads is checked with axe-core.
    """
    opened: list[tuple[LiveServer, Site]] = []

    def open_(locale: str = "en-GB", java_script: bool = True, **config: t.Any) -> Site:
        server = LiveServer(tmp_path / f"site{len(opened)}", config)
        context = chromium.new_context(
            base_url=server.url,
            locale=locale,
            viewport={"width": 1000, "height": 760},
            java_script_enabled=java_script,
        )
        context.set_default_timeout(10_000)
        site = Site(context, server.url, server.app, audit=java_script)
        opened.append((server, site))
        return site

    yield open_
    failed = getattr(request.node, "report_call", None)
    for index, (server, site) in enumerate(opened):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = _artifact_name(request.node.nodeid) + (f"-{index}" if index else "")
            site.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        site.close()
        server.stop()


@pytest.fixture
def site(open_site: t.Callable[..., Site]) -> Site:
    """The demo with default settings, in a fresh browser context."""
    return open_site()


@pytest.fixture(scope="session")
def screenshots() -> Path | None:
    """``SCREENSHOTS_DIR=docs/screenshots`` makes the tour test save the README's pictures."""
    target = os.environ.get("SCREENSHOTS_DIR")
    return Path(target) if target else None
