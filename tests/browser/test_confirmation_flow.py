"""Sign-up, confirmation, resend, login and logout, clicked through in Chromium."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from playwright.sync_api import expect

from demo.models import db, models
from flask_mailproof.flows.confirmation import confirmation_token
from helpers import PASSWORD

from .site import Site
from .steps import confirm_by_mail, log_in, log_out, register, sign_up


def test_sign_up_confirm_log_in_reaches_profile(site: Site) -> None:
    register(site, "alice@example.com")
    site.expect_heading("Check your inbox")
    assert site.page.locator("main").inner_text().count("Check your inbox") == 1
    expect(site.page.locator("main strong")).to_have_text("alice@example.com")

    confirm_by_mail(site, "alice@example.com")

    assert site.path == "/login"
    site.expect_flash("your address is confirmed")
    log_in(site, "alice@example.com")
    assert site.path == "/profile"
    site.expect_heading("Your profile")
    assert "alice@example.com" in site.page.locator(".facts").inner_text()


def test_confirming_while_logged_in_goes_to_profile(site: Site) -> None:
    register(site, "bob@example.com")
    log_in(site, "bob@example.com")
    assert site.path == "/unconfirmed"

    confirm_by_mail(site, "bob@example.com")

    assert site.path == "/profile"
    site.expect_flash("your address is confirmed")


def test_log_out_and_back_in(site: Site) -> None:
    sign_up(site, "carol@example.com")

    log_out(site)
    site.expect_flash("You are logged out")
    assert site.goto("/profile") == 200
    assert site.path.startswith("/login")

    log_in(site, "carol@example.com")
    assert site.path == "/profile"


def test_wrong_password_is_announced_next_to_the_field(site: Site) -> None:
    sign_up(site, "dave@example.com")
    log_out(site)

    log_in(site, "dave@example.com", "not the right password at all")

    assert site.path == "/login"
    assert site.field_errors("Password") == ["Wrong address or password."]


def test_register_errors_are_tied_to_their_fields(site: Site) -> None:
    site.goto("/register")
    site.submit_form(
        "Create account",
        **{"Email address": "eve@example.com", "Password": PASSWORD, "Repeat the password": "x"},
    )

    assert site.field_errors("Repeat the password") == ["The two passwords differ."]
    assert site.page.get_by_label("Password", exact=True).input_value() == ""


def test_resend_right_after_sign_up_waits_with_the_button_off(site: Site) -> None:
    register(site, "frank@example.com")

    wait = re.compile(r"You can ask for another link in 3 minutes \(at \d\d:\d\d UTC\)\.")
    expect(site.page.get_by_text(wait)).to_be_visible()
    expect(site.page.get_by_label("Email address")).to_have_value("frank@example.com")
    expect(site.page.get_by_role("button", name="Send a new link")).to_be_disabled()
    log_in(site, "frank@example.com")
    expect(site.page.get_by_text(wait)).to_be_visible()
    expect(site.page.get_by_role("button", name="Send the link again")).to_be_disabled()
    assert site.mail_count("frank@example.com") == 1


def test_send_button_comes_on_when_the_wait_is_over_without_javascript(open_site) -> None:
    site = open_site(java_script=False, MAILPROOF_RESEND_INTERVAL=2)
    register(site, "fay@example.com")
    button = site.page.get_by_role("button", name="Send a new link")
    expect(button).to_be_disabled()

    # No script: the page's Refresh header reloads it when the wait is over.
    expect(button).to_be_enabled(timeout=8_000)
    site.press("Send a new link")

    site.expect_flash("a new link is on its way")
    assert site.mail_count("fay@example.com") == 2


def test_resend_sends_a_new_link_and_kills_the_old_one(open_site) -> None:
    site = open_site(MAILPROOF_RESEND_INTERVAL=0)
    register(site, "grace@example.com")
    site.open_newest_mail("grace@example.com")
    [old_link] = site.mail_links()
    log_in(site, "grace@example.com")

    site.press("Send the link again")
    site.expect_flash("A new link is on its way")
    site.goto(old_link)

    site.expect_heading("A newer link was sent to you")
    confirm_by_mail(site, "grace@example.com")
    assert site.path == "/profile"


def test_logged_out_resend_answers_the_same_for_any_address(open_site) -> None:
    site = open_site(MAILPROOF_RESEND_INTERVAL=0)
    register(site, "heidi@example.com")

    for address in ("heidi@example.com", "nobody@example.com"):
        site.goto("/resend")
        site.submit_form("Send a new link", **{"Email address": address})
        site.expect_flash("If that address has an account waiting for confirmation")

    assert site.mail_count("heidi@example.com") == 2
    assert site.mail_count("nobody@example.com") == 0


def test_expired_link_offers_a_fresh_one(open_site) -> None:
    # No wait between links: the renewal comes right after the registration's mail.
    site = open_site(MAILPROOF_RESEND_INTERVAL=0)
    register(site, "ivan@example.com")
    with site.app.app_context():
        user = db.session.scalars(db.select(models.user)).one()
        # A link minted two days ago, for the account as it is now.
        with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=2), tick=False):
            token = confirmation_token(user)

    assert site.goto(f"/confirm/{token}") == 410
    site.expect_heading("This link has expired")
    site.press("Send me a new link")

    site.expect_flash("A fresh link is on its way")
    confirm_by_mail(site, "ivan@example.com")
    site.expect_flash("your address is confirmed")


def test_tampered_link_is_refused(site: Site) -> None:
    register(site, "judy@example.com")
    site.open_newest_mail("judy@example.com")
    [link] = site.mail_links()
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    assert site.goto(tampered) == 404

    site.expect_heading("This link does not work")
    log_in(site, "judy@example.com")
    assert site.path == "/unconfirmed"


def test_pages_work_without_javascript(open_site) -> None:
    site = open_site(java_script=False)

    sign_up(site, "ken@example.com")

    site.expect_heading("Your profile")
