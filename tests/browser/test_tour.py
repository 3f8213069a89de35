"""The main pages on a desktop and a phone, in English and German: layout, focus, screenshots.

``SCREENSHOTS_DIR=docs/screenshots make test`` (or pytest on this file) refreshes the
README's pictures.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .site import Site
from .steps import log_in, register

PHONE_WIDTH = 360


def _no_sideways_scroll(site: Site) -> None:
    width = site.page.evaluate("document.documentElement.scrollWidth")
    assert width <= site.page.viewport_size["width"], f"{site.path} scrolls sideways"


def test_tour_of_the_main_pages(site: Site, screenshots: Path | None) -> None:
    site.goto("/")
    site.screenshot(screenshots, "home")
    site.follow("Create an account")
    site.screenshot(screenshots, "register")
    register(site, "tour@example.com")
    log_in(site, "tour@example.com")
    site.expect_heading("Check your inbox")
    site.screenshot(screenshots, "unconfirmed")

    site.follow_mail_link("tour@example.com", "/confirm/")
    site.screenshot(screenshots, "confirm")
    site.press("Confirm my address")
    site.expect_heading("Your profile")
    site.screenshot(screenshots, "profile")

    site.goto("/_mail")
    site.screenshot(screenshots, "mailbox")
    site.open_newest_mail("tour@example.com")
    if screenshots is not None:
        # The mail's HTML part alone, as a mail client about as wide as a phone shows it.
        mail = site.context.new_page()
        mail.set_viewport_size({"width": 640, "height": 600})
        mail.set_content(site.page.locator("iframe.mail-html").get_attribute("srcdoc") or "")
        mail.screenshot(path=str(screenshots / "confirmation-mail.png"), full_page=True)
        mail.close()

    assert len(site.audited) >= 8, site.audited


@pytest.mark.parametrize(
    "path", ["/", "/register", "/login", "/resend", "/unconfirmed", "/_mail", "/reset", "/contact"]
)
def test_pages_fit_a_phone(site: Site, path: str) -> None:
    site.page.set_viewport_size({"width": PHONE_WIDTH, "height": 740})

    site.goto(path)

    _no_sideways_scroll(site)


def test_logged_in_pages_fit_a_phone(site: Site) -> None:
    site.page.set_viewport_size({"width": PHONE_WIDTH, "height": 740})
    register(site, "a-rather-long-address.for-a-phone@subdomain.example.com")
    log_in(site, "a-rather-long-address.for-a-phone@subdomain.example.com")
    _no_sideways_scroll(site)

    site.open_newest_mail("a-rather-long-address.for-a-phone@subdomain.example.com")

    _no_sideways_scroll(site)


def test_keyboard_focus_is_visible(site: Site) -> None:
    site.goto("/login")
    site.page.keyboard.press("Tab")

    outline = site.page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.textContent.trim(), s.outlineStyle, s.outlineWidth]; }"
    )

    assert outline[0] == "Skip to content"
    assert outline[1] != "none"
    assert outline[2] != "0px"


def test_german_browser_gets_german_pages(open_site, screenshots: Path | None) -> None:
    site = open_site(locale="de-DE")

    site.goto("/register")
    site.expect_heading("Konto anlegen")
    site.submit_form(
        "Konto anlegen",
        **{
            "E-Mail-Adresse": "gerda@example.com",
            "Passwort": "correct horse battery staple",
            "Passwort wiederholen": "correct horse battery staple",
        },
    )
    site.expect_heading("Sehen Sie in Ihr Postfach")
    expect(site.page.get_by_text("Eine Mail an gerda@example.com ist unterwegs.")).to_be_visible()
    expect(site.page.get_by_text(re.compile(r"In 3 Minuten \(um \d\d:\d\d UTC\)"))).to_be_visible()
    site.follow_mail_link("gerda@example.com", "/confirm/")
    site.expect_heading("Bestätigen Sie Ihre Adresse")
    site.screenshot(screenshots, "confirm-de")
    site.press("Meine Adresse bestätigen")

    site.expect_flash("Ihre Adresse ist bestätigt")
    assert site.page.locator("html").get_attribute("lang") == "de"
