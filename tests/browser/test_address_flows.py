"""Changing a confirmed address (and undoing it), and fixing a mistyped one before confirming."""

from __future__ import annotations

from helpers import PASSWORD

from .site import Site
from .steps import log_in, register, sign_up


def _ask_to_move(site: Site, new: str) -> None:
    site.follow("Change your email address")
    site.expect_heading("Change your email address")
    site.submit_form("Mail me a link", **{"New email address": new, "Current password": PASSWORD})


def test_address_is_changed_through_a_link_to_the_new_one(site: Site) -> None:
    sign_up(site, "quinn@example.com")

    _ask_to_move(site, "quinn@example.org")
    assert site.path == "/profile"
    site.expect_flash("A link is on its way to quinn@example.org")
    site.follow_mail_link("quinn@example.org", "/change-email/")
    site.expect_heading("Change your email address")
    site.press("Use this address")

    assert site.path == "/profile"
    site.expect_flash("Your address is now quinn@example.org")
    assert "quinn@example.org" in site.page.locator(".facts").inner_text()
    # The old address is told, with a link that undoes the change.
    site.open_newest_mail("quinn@example.com", "Your email address was changed")
    [undo] = site.mail_links()
    assert undo.startswith(site.url + "/change-email/undo/")


def test_old_address_undoes_the_change(site: Site) -> None:
    sign_up(site, "rosa@example.com")
    _ask_to_move(site, "rosa@example.org")
    site.press_mailed_button("rosa@example.org", "/change-email/", "Use this address")

    site.follow_mail_link("rosa@example.com", "/change-email/undo/")
    site.expect_heading("Undo the address change")
    site.press("Put my address back")

    # Every session ended; the page suggests a new password.
    assert site.path == "/reset"
    site.expect_flash("Your address is rosa@example.com again")
    log_in(site, "rosa@example.com")
    assert site.path == "/profile"
    assert "rosa@example.com" in site.page.locator(".facts").inner_text()


def test_mistyped_address_is_fixed_from_the_unconfirmed_page(site: Site) -> None:
    register(site, "sam@exmaple.com")
    log_in(site, "sam@exmaple.com")
    assert site.path == "/unconfirmed"

    site.follow("Correct it")
    site.expect_heading("Correct your email address")
    site.submit_form(
        "Mail the link there",
        **{"New email address": "sam@example.com", "Current password": PASSWORD},
    )

    assert site.path == "/unconfirmed"
    site.expect_flash("A link is on its way to sam@example.com")
    # Proving the corrected address moves the account there and confirms it.
    site.press_mailed_button("sam@example.com", "/change-email/", "Use this address")
    assert site.path == "/profile"
    site.expect_flash("Your address is now sam@example.com")
    assert site.mail_count("sam@exmaple.com") == 1  # The typo gets nothing more.
