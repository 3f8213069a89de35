"""Steps every flow starts from, written once: sign up, confirm by mail, log in and out.

A new flow's test reads like its steps, e.g. a password reset::

    sign_up(site, "ann@example.com")
    log_out(site)
    site.goto("/reset")
    site.submit_form("Mail me a link", **{"Email address": "ann@example.com"})
    site.follow_mail_link("ann@example.com", "/reset/")
    site.submit_form("Set my password", **{"Password": NEW, "Repeat the password": NEW})
    log_in(site, "ann@example.com", NEW)

Fill fields by their visible label and press buttons by their visible name: a test that
passes proves the labels are tied to their fields. Every page loaded is checked by axe-core.
"""

from __future__ import annotations

from helpers import PASSWORD

from .site import Site


def register(site: Site, email: str, password: str = PASSWORD) -> None:
    """Create an account through the form; the site answers "check your inbox"."""
    site.goto("/register")
    site.submit_form(
        "Create account",
        **{"Email address": email, "Password": password, "Repeat the password": password},
    )
    assert site.path == "/unconfirmed", site.path


def confirm_by_mail(site: Site, email: str) -> str:
    """Open the newest confirmation mail to ``email``, follow its link, press the button."""
    link = site.follow_mail_link(email, "/confirm/")
    site.expect_heading("Confirm your address")
    site.press("Confirm my address")
    return link


def log_in(site: Site, email: str, password: str = PASSWORD) -> None:
    site.goto("/login")
    site.submit_form("Log in", **{"Email address": email, "Password": password})


def log_out(site: Site) -> None:
    site.press("Log out")
    assert site.path == "/", site.path


def sign_up(site: Site, email: str, password: str = PASSWORD) -> None:
    """Register, confirm by mail and log in: a confirmed user on their profile."""
    register(site, email, password)
    confirm_by_mail(site, email)
    log_in(site, email, password)
    assert site.path == "/profile", site.path
