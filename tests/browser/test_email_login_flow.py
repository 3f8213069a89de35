"""Sign in by emailed link, as a person does it: ask, open /_mail, press, arrive signed in.

Every page these tests load is checked with axe-core (see ``Site.audit``)."""

from __future__ import annotations

import typing as t

from demo.models import db, models
from flask_mailproof.addresses import parse_address
from flask_mailproof.clock import utcnow

from .site import Site
from .steps import log_out, sign_up

PHONE = {"width": 375, "height": 740}


def add_account(site: Site, email: str) -> None:
    """Create a confirmed account straight in the demo's database (the steps speak English)."""
    with site.app.app_context():
        address = parse_address(email)
        now = utcnow()
        db.session.add(
            models.user(
                email=address.email, email_key=address.key, registered_at=now, confirmed_at=now
            )
        )
        db.session.commit()


def test_a_link_from_the_login_page_signs_in(site: Site) -> None:
    sign_up(site, "ines@example.com")
    log_out(site)
    site.goto("/login")

    site.follow("Email me a sign-in link")
    site.expect_heading("Sign in by email")
    site.submit_form("Email me a sign-in link", **{"Email address": "ines@example.com"})
    site.expect_flash("a sign-in link is on its way")
    site.press_mailed_button("ines@example.com", "/login/email/", "Sign me in")

    assert site.path == "/profile"
    site.expect_flash("You are signed in")


def test_at_phone_width(site: Site) -> None:
    sign_up(site, "pia@example.com")
    log_out(site)
    site.page.set_viewport_size(PHONE)
    site.goto("/login/email")

    site.submit_form("Email me a sign-in link", **{"Email address": "pia@example.com"})
    site.press_mailed_button("pia@example.com", "/login/email/", "Sign me in")

    assert site.path == "/profile"
    width = site.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a phone"


def test_in_german(open_site: t.Callable[..., Site]) -> None:
    site = open_site(locale="de-DE")
    add_account(site, "jonas@example.com")
    site.goto("/login")

    site.follow("Anmeldelink per E-Mail senden")
    site.expect_heading("Per Mail anmelden")
    site.submit_form("Anmeldelink per E-Mail senden", **{"E-Mail-Adresse": "jonas@example.com"})
    site.press_mailed_button("jonas@example.com", "/login/email/", "Mich anmelden")

    assert site.path == "/profile"
    site.expect_flash("Sie sind angemeldet")
