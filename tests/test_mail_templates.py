"""Every mail renders in both languages, with its links in the text part and the HTML part."""

from __future__ import annotations

import datetime as dt
import html
import re
import types
from pathlib import Path

import pytest
from flask_babel import force_locale

from flask_mailproof.mail.render import render_mail
from helpers import PASSWORD, submit

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
    "login_link": {
        "link": "https://mailproof.test/login/email/TOKEN-6",
        "code": "654321",
        "expires_in": "15 minutes",
        "requested_at": "2026-12-03 09:30 UTC",
        "browser": "Firefox",
    },
    "login_signup": {
        "link": "https://mailproof.test/login/email/TOKEN-7",
        "expires_in": "15 minutes",
        "requested_at": "2026-12-03 09:30 UTC",
        "browser": None,
    },
    "login_unknown": {
        "email": "anna@example.com",
        "requested_at": "2026-12-03 09:30 UTC",
        "register_link": "https://mailproof.test/register",
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
    ("login_link", "link"),
    ("login_signup", "link"),
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


#: What the footer of a mail with a link to a one-button page promises; no other mail says it.
BUTTON_PROMISE = "Nothing happens unless you open the link and press the button on the page"
#: Mails whose link leads to a page whose button does what the mail is about.
PROMISE_BUTTON = {
    "confirm",
    "reset",
    "email_change",
    "contact_verify",
    "login_link",
    "login_signup",
}
_FOOTER = re.compile(r'<td style="padding:16px 32px;[^"]*">\s*(.*?)\s*</td>', re.DOTALL)


def _footers(app, name: str, context: dict[str, object]) -> tuple[str, str]:
    """Return the footer of the HTML part and the last paragraph of the text part."""
    with app.test_request_context():
        mail = render_mail(name, context)
    [html_footer] = _FOOTER.findall(mail.html)
    text_footer = mail.text.rstrip().rsplit("\n-- \n", 1)[1]
    return html.unescape(html_footer), text_footer


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_each_mail_ends_with_its_own_footer_in_both_parts(app, name) -> None:
    html_footer, text_footer = _footers(app, name, CONTEXTS[name])

    assert html_footer == text_footer
    assert html_footer.startswith("You get this mail because ")
    assert (BUTTON_PROMISE in html_footer) is (name in PROMISE_BUTTON)
    others = {_footers(app, n, CONTEXTS[n])[0] for n in CONTEXTS if n != name}
    assert html_footer not in others


@pytest.mark.parametrize("name", ["password_changed", "contact_delivery", "email_change_taken"])
def test_notices_without_a_button_promise_none(app, name) -> None:
    html_footer, _text_footer = _footers(app, name, CONTEXTS[name])

    assert "button" not in html_footer
    assert "Nothing happens unless" not in html_footer


@pytest.mark.parametrize("name", ["confirm", "reset"])
def test_footer_of_a_code_only_mail_speaks_of_the_code(app, name) -> None:
    context = {**CONTEXTS[name], "link": None, "code": "123456"}

    html_footer, text_footer = _footers(app, name, context)

    assert html_footer.endswith("Nothing happens unless you enter the code.")
    assert text_footer == html_footer


def test_footer_of_a_mail_with_link_and_code_names_both(app) -> None:
    context = {**CONTEXTS["reset"], "code": "123456"}

    html_footer, _text_footer = _footers(app, "reset", context)

    assert html_footer.endswith("press the button on the page, or enter the code.")


def test_footer_is_german_in_german_mail(app) -> None:
    with app.test_request_context(), force_locale("de"):
        mail = render_mail("password_changed", CONTEXTS["password_changed"])

    [footer] = _FOOTER.findall(mail.html)
    assert footer.startswith("Sie erhalten diese Mail, weil")
    assert mail.text.rstrip().endswith(footer)
