"""The contact form: held until the sender presses the mailed button, then sent to the owner."""

from __future__ import annotations

from .site import Site

OWNER = "owner@localhost"


def _write(site: Site, email: str, message: str) -> None:
    site.goto("/")
    site.follow("Contact")
    site.expect_heading("Contact us")
    site.submit_form(
        "Send", **{"Your name": "Tess", "Your email address": email, "Message": message}
    )


def test_message_reaches_the_owner_once_its_sender_presses_the_button(site: Site) -> None:
    _write(site, "tess@example.com", "Do you ship to Iceland?")
    assert site.path == "/contact/sent"
    site.expect_heading("Check your inbox")
    site.expect_flash("We sent a link to tess@example.com")
    assert site.mail_count(OWNER) == 0

    site.press_mailed_button("tess@example.com", "/contact/verify/", "Send my message")

    assert site.path == "/contact/received"
    site.expect_heading("Thank you: we received your message")
    site.open_newest_mail(OWNER, "Contact form")
    assert "Do you ship to Iceland?" in site.page.locator("body").inner_text()


def test_second_press_of_the_link_says_already_received(site: Site) -> None:
    _write(site, "uwe@example.com", "Hello there.")
    link = site.press_mailed_button("uwe@example.com", "/contact/verify/", "Send my message")

    site.goto(link)

    site.expect_heading("We received this message already")
    assert site.mail_count(OWNER) == 1


def test_empty_name_is_announced_next_to_its_field(site: Site) -> None:
    site.goto("/contact")
    site.submit_form("Send", **{"Your email address": "val@example.com", "Message": "Hi."})

    assert site.field_errors("Your name") == ["Enter your name."]
    assert site.page.get_by_label("Message", exact=True).input_value() == "Hi."
