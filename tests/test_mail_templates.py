"""Every mail renders in both languages, with its links in the text part and the HTML part."""

from __future__ import annotations

import datetime as dt
import html
import types
from pathlib import Path

import pytest
from flask_babel import force_locale

from conftest import PASSWORD, submit
from flask_mailproof.mail.render import render_mail

EMAIL_TEMPLATES = Path(__file__).resolve().parent.parent / (
    "src/flask_mailproof/templates/mailproof/email"
)
USER = types.SimpleNamespace(email="anna@example.com")

#: The context each mail is rendered with; every key ending in ``link`` must show in both
#: parts. A new mail template needs an entry here (the first test says so).
CONTEXTS: dict[str, dict[str, object]] = {
    "confirm": {
        "user": USER,
        "link": "https://mailproof.test/confirm/TOKEN-1",
        "expires_in": "24 hours",
    },
    "account_exists": {
        "user": USER,
        "login_link": "https://mailproof.test/login",
        "reset_link": "https://mailproof.test/reset",
    },
    "reset": {
        "link": "https://mailproof.test/reset/TOKEN-2",
        "code": "123456",
        "expires_in": "1 hour",
    },
    "reset_unknown": {
        "email": "anna@example.com",
        "register_link": "https://mailproof.test/register",
    },
    "password_changed": {"user": USER, "reset_link": "https://mailproof.test/reset"},
    "email_change": {
        "email": "new@example.com",
        "link": "https://mailproof.test/change-email/TOKEN-3",
        "expires_in": "24 hours",
    },
    "email_changed": {
        "new_email": "new@example.com",
        "link": "https://mailproof.test/change-email/undo/TOKEN-4",
        "expires_in": "24 hours",
    },
    "email_change_taken": {"email": "anna@example.com"},
    "contact_verify": {
        "link": "https://mailproof.test/contact/verify/TOKEN-5",
        "form_link": "https://mailproof.test/contact",
        "expires_in": "15 minutes",
    },
    "contact_delivery": {
        "contact_message": types.SimpleNamespace(
            id=7,
            name="Bo",
            email="bo@example.com",
            user_id=3,
            created_at=dt.datetime(2026, 1, 2, 3, 4, 5),
            message="Hello,\nhow are you?",
        )
    },
}
#: Mails that carry no link: a notice that nothing changed, and the site's copy of a message.
WITHOUT_LINKS = {"email_change_taken", "contact_delivery"}
#: Mails with a button, and the key of the link behind it.
BUTTONS = [
    ("confirm", "link"),
    ("account_exists", "login_link"),
    ("reset", "link"),
    ("email_change", "link"),
    ("email_changed", "link"),
    ("contact_verify", "link"),
]


def test_every_mail_template_has_a_context_here() -> None:
    names = {p.name.removesuffix("_subject.txt") for p in EMAIL_TEMPLATES.glob("*_subject.txt")}

    assert names == set(CONTEXTS)


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_both_parts_carry_every_link(app, name, locale) -> None:
    context = CONTEXTS[name]
    with app.test_request_context(), force_locale(locale):
        mail = render_mail(name, context)

    links = [v for k, v in context.items() if k.endswith("link")]
    assert bool(links) is (name not in WITHOUT_LINKS)
    for link in links:
        assert link in mail.text
        assert f'href="{link}"' in mail.html
    assert mail.subject
    assert "\n" not in mail.subject
    assert f'<html lang="{locale}">' in mail.html


@pytest.mark.parametrize(("name", "key"), BUTTONS)
def test_button_link_is_also_shown_as_text(app, name, key) -> None:
    with app.test_request_context():
        mail = render_mail(name, CONTEXTS[name])

    link = CONTEXTS[name][key]
    # For clients that drop the button's styling, and for people who copy links.
    assert html.unescape(mail.html).count(f">{link}</a>") == 1
    assert html.unescape(mail.html).count(f'href="{link}"') == 2


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_german_mail_differs_from_english(app, name) -> None:
    with app.test_request_context():
        with force_locale("en"):
            english = render_mail(name, CONTEXTS[name])
        with force_locale("de"):
            german = render_mail(name, CONTEXTS[name])

    assert german.subject != english.subject
    assert german.text != english.text


def test_text_part_reads_on_its_own(app) -> None:
    with app.test_request_context():
        mail = render_mail("confirm", CONTEXTS["confirm"])

    assert "<" not in mail.text
    assert "anna@example.com" in mail.text
    assert mail.text.index("https://mailproof.test/confirm/TOKEN-1") > 0


@pytest.fixture
def branded(config):
    config.update(
        MAILPROOF_MAIL_SENDER="Example <hello@example.com>", MAILPROOF_SUBJECT_PREFIX="[Example] "
    )


def test_sender_and_subject_prefix_are_settings(branded, client, outbox) -> None:
    submit(
        client,
        "/register",
        {"email": "bo@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    [mail] = outbox()
    assert mail.headers["From"] == "Example <hello@example.com>"
    assert mail.subject == "[Example] Confirm your email address"
