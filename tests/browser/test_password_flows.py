"""A forgotten password reset by mail, a known one changed, and an expired reset link."""

from __future__ import annotations

import datetime as dt

import time_machine

from demo.models import db, models
from flask_mailproof.flows.password_reset import reset_token
from helpers import PASSWORD

from .site import Site
from .steps import log_in, log_out, sign_up

NEW_PASSWORD = "violet tractor harbour quietly"


def test_forgotten_password_is_reset_by_mail(site: Site) -> None:
    sign_up(site, "lena@example.com")
    log_out(site)
    site.goto("/login")

    site.follow("Forgot your password?")
    site.expect_heading("Reset your password")
    site.submit_form("Mail me a link", **{"Email address": "lena@example.com"})
    site.expect_flash("a link to reset its password is on its way")
    site.follow_mail_link("lena@example.com", "/reset/", subject="Reset your password")
    site.expect_heading("Choose a new password")
    assert "/reset/set-password" in site.path  # The token left the address bar.
    site.submit_form(
        "Set my password", **{"Password": NEW_PASSWORD, "Repeat the password": NEW_PASSWORD}
    )

    assert site.path == "/login"
    site.expect_flash("Your password is set")
    log_in(site, "lena@example.com", NEW_PASSWORD)
    assert site.path == "/profile"


def test_old_password_no_longer_works_after_a_reset(site: Site) -> None:
    sign_up(site, "mona@example.com")
    log_out(site)
    site.goto("/reset")
    site.submit_form("Mail me a link", **{"Email address": "mona@example.com"})
    site.follow_mail_link("mona@example.com", "/reset/", subject="Reset your password")
    site.submit_form(
        "Set my password", **{"Password": NEW_PASSWORD, "Repeat the password": NEW_PASSWORD}
    )

    log_in(site, "mona@example.com")

    assert site.path == "/login"
    assert site.field_errors("Password") == ["Wrong address or password."]


def test_password_is_changed_from_the_profile(site: Site) -> None:
    sign_up(site, "nina@example.com")

    site.follow("Change your password")
    site.expect_heading("Change your password")
    site.submit_form(
        "Change my password",
        **{
            "Current password": PASSWORD,
            "Password": NEW_PASSWORD,
            "Repeat the password": NEW_PASSWORD,
        },
    )

    assert site.path == "/profile"
    site.expect_flash("Your password is changed")
    site.open_newest_mail("nina@example.com", "Your password was changed")
    log_out(site)
    log_in(site, "nina@example.com", NEW_PASSWORD)
    assert site.path == "/profile"


def test_wrong_current_password_is_announced_next_to_its_field(site: Site) -> None:
    sign_up(site, "olaf@example.com")
    site.goto("/change-password")

    site.submit_form(
        "Change my password",
        **{
            "Current password": "not my password at all",
            "Password": NEW_PASSWORD,
            "Repeat the password": NEW_PASSWORD,
        },
    )

    assert site.field_errors("Current password") == ["This is not your current password."]


def test_expired_reset_link_says_so_and_offers_a_new_one(site: Site) -> None:
    sign_up(site, "pia@example.com")
    log_out(site)
    with site.app.app_context():
        user = db.session.scalars(db.select(models.user)).one()
        # A link minted two hours ago (reset links live one hour), for the account as it is.
        with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2), tick=False):
            token = reset_token(user)

    assert site.goto(f"/reset/{token}") == 410

    site.expect_heading("This link has expired")
    site.follow("Ask for a new reset link")
    site.expect_heading("Reset your password")


def test_german_browser_resets_in_german(open_site) -> None:
    site = open_site(locale="de-DE")
    site.goto("/register")
    site.submit_form(
        "Konto anlegen",
        **{
            "E-Mail-Adresse": "quirin@example.com",
            "Passwort": PASSWORD,
            "Passwort wiederholen": PASSWORD,
        },
    )
    site.press_mailed_button("quirin@example.com", "/confirm/", "Meine Adresse bestätigen")
    assert site.path == "/login"

    site.follow("Passwort vergessen?")
    site.expect_heading("Passwort zurücksetzen")
    site.submit_form("Link per Mail schicken", **{"E-Mail-Adresse": "quirin@example.com"})
    site.expect_flash("ist ein Link zum Zurücksetzen seines Passworts unterwegs")
    site.follow_mail_link("quirin@example.com", "/reset/", subject="Passwort zurücksetzen")
    site.expect_heading("Neues Passwort wählen")
    site.submit_form(
        "Mein Passwort festlegen",
        **{"Passwort": NEW_PASSWORD, "Passwort wiederholen": NEW_PASSWORD},
    )

    site.expect_flash("Ihr Passwort ist festgelegt")
