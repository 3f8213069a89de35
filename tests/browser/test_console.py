"""A walk through the main pages leaves the browser's console clean and no request failing.

A missing favicon cost every page a 404 and a console error; any other broken asset, script
or policy violation shows up here the same way.
"""

from __future__ import annotations

import typing as t

import pytest
from playwright.sync_api import ConsoleMessage, Request, Response

from .site import Site
from .steps import register


class Trouble:
    """What went wrong in the browser while a test walked the site."""

    def __init__(self, site: Site) -> None:
        self.console: list[str] = []
        self.failed: list[str] = []
        self.served: list[str] = []
        site.page.on("console", self._console)
        site.page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))
        site.page.on("requestfailed", self._request_failed)
        site.page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        # Warnings too: Chromium reports a blocked resource (CSP) as an error, a deprecation
        # as a warning; both are something a visitor's console should not show.
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text} ({message.location['url']})")

    def _request_failed(self, request: Request) -> None:
        self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        self.served.append(response.url)
        if response.status >= 400:
            self.failed.append(f"{response.request.method} {response.url}: {response.status}")


@pytest.fixture
def trouble(site: Site) -> Trouble:
    return Trouble(site)


def test_walk_through_the_main_pages_has_no_console_error_or_failed_request(
    site: Site, trouble: Trouble
) -> None:
    for path in ("/", "/register", "/login", "/reset", "/contact"):
        assert site.goto(path) == 200, path
    register(site, "ada@example.com")
    site.expect_heading("Check your inbox")
    site.goto("/_mail")
    site.open_newest_mail("ada@example.com", "Confirm your email address")
    site.page.wait_for_load_state("networkidle")

    assert trouble.console == []
    assert trouble.failed == []
    assert f"{site.url}/static/favicon.svg" in trouble.served


def test_favicon_is_an_svg_and_its_old_name_leads_to_it(site: Site) -> None:
    response = site.page.request.get(f"{site.url}/favicon.ico")

    assert response.status == 200
    assert response.url == f"{site.url}/static/favicon.svg"
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert t.cast(str, response.text()).lstrip().startswith("<svg")
