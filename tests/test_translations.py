"""Translations: every page and mail in English and German, and host apps with or without Babel."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy

from demo.models import db, models
from flask_mailproof import Mailproof, define_models
from flask_mailproof.flows.confirmation import confirmation_token
from flask_mailproof.i18n import TRANSLATIONS
from helpers import PASSWORD, csrf_token, submit

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)


def heading(response) -> str:
    match = _H1.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return " ".join(match.group(1).split())


#: The extension's catalogs, shipped in the package, and the demo's own.
CATALOG_FOLDERS = [TRANSLATIONS, Path(__file__).resolve().parent.parent / "demo" / "translations"]


def _entries(catalog) -> dict[object, object]:
    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("folder", CATALOG_FOLDERS, ids=["extension", "demo"])
def test_german_catalog_translates_every_message(folder) -> None:
    with open(folder / "messages.pot", "rb") as pot_file:
        template = _entries(read_po(pot_file))
    with open(folder / "de/LC_MESSAGES/messages.po", "rb") as po_file:
        catalog = _entries(read_po(po_file))

    missing = [key for key in template if not catalog.get(key)]

    assert missing == [], "run `make translations` and translate what is new"


@pytest.mark.parametrize("folder", CATALOG_FOLDERS, ids=["extension", "demo"])
def test_compiled_german_catalog_matches_its_source(folder) -> None:
    with open(folder / "de/LC_MESSAGES/messages.po", "rb") as po_file:
        source = _entries(read_po(po_file))
    with open(folder / "de/LC_MESSAGES/messages.mo", "rb") as mo_file:
        compiled = _entries(read_mo(mo_file))

    assert compiled == source, "run `make translations` and commit the .mo"


@pytest.fixture
def unconfirmed_token(app, make_user) -> tuple[str, object]:
    user = make_user("uma@example.com", confirmed=False, confirm_counter=1)
    with app.app_context():
        return confirmation_token(user), user


PAGES = [
    # (what, path, English heading, German heading)
    ("home", "/", "Prove you own your address", "Beweisen Sie, dass Ihnen Ihre Adresse gehört"),
    ("register", "/register", "Create an account", "Konto anlegen"),
    ("login", "/login", "Log in", "Anmelden"),
    ("resend", "/resend", "Get a new confirmation link", "Neuen Bestätigungslink anfordern"),
    ("unconfirmed", "/unconfirmed", "Check your inbox", "Sehen Sie in Ihr Postfach"),
    ("mailbox", "/_mail", "Development mailbox", "Entwicklungs-Postfach"),
    (
        "invalid link",
        "/confirm/nonsense",
        "This link does not work",
        "Dieser Link funktioniert nicht",
    ),
    ("reset", "/reset", "Reset your password", "Passwort zurücksetzen"),
    ("contact", "/contact", "Contact us", "Kontakt"),
    ("contact sent", "/contact/sent", "Check your inbox", "Sehen Sie in Ihr Postfach"),
    (
        "contact received",
        "/contact/received",
        "Thank you: we received your message",
        "Danke: Wir haben Ihre Nachricht erhalten",
    ),
    (
        "contact link",
        "/contact/verify/nonsense",
        "This link does not work",
        "Dieser Link funktioniert nicht",
    ),
    (
        "address change link",
        "/change-email/nonsense",
        "This link does not work",
        "Dieser Link funktioniert nicht",
    ),
]


@pytest.mark.parametrize(("headers", "column"), [(ENGLISH, 2), (GERMAN, 3)], ids=["en", "de"])
@pytest.mark.parametrize("row", PAGES, ids=[row[0] for row in PAGES])
def test_anonymous_pages_speak_the_browser_language(client, headers, column, row) -> None:
    response = client.get(row[1], headers=headers)

    assert heading(response) == row[column]
    assert f'<html lang="{headers["Accept-Language"][:2]}">' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(ENGLISH, "Confirm your address"), (GERMAN, "Bestätigen Sie Ihre Adresse")],
    ids=["en", "de"],
)
def test_confirm_page_is_translated(client, unconfirmed_token, headers, expected) -> None:
    token, _ = unconfirmed_token

    assert heading(client.get(f"/confirm/{token}", headers=headers)) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(ENGLISH, "This link has expired"), (GERMAN, "Dieser Link ist abgelaufen")],
    ids=["en", "de"],
)
def test_expired_page_is_translated(app, client, make_user, headers, expected) -> None:
    user = make_user("olga@example.com", confirmed=False, confirm_counter=1)
    with app.app_context(), time_machine.travel(dt.datetime(2020, 1, 1, tzinfo=dt.UTC)):
        token = confirmation_token(user)

    assert heading(client.get(f"/confirm/{token}", headers=headers)) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(ENGLISH, "A newer link was sent to you"), (GERMAN, "Ihnen wurde ein neuerer Link geschickt")],
    ids=["en", "de"],
)
def test_superseded_page_is_translated(app, client, make_user, headers, expected) -> None:
    user = make_user("paul@example.com", confirmed=False, confirm_counter=1)
    with app.app_context():
        token = confirmation_token(user)
        # The counter moves on: a newer link was sent since.
        db.session.get(models.user, user.id).confirm_counter = 2
        db.session.commit()

    assert heading(client.get(f"/confirm/{token}", headers=headers)) == expected


@pytest.mark.parametrize(
    ("headers", "profile", "flash"),
    [
        (ENGLISH, "Your profile", "You are logged out."),
        (GERMAN, "Ihr Profil", "Sie sind abgemeldet."),
    ],
    ids=["en", "de"],
)
def test_logged_in_pages_and_flashes_are_translated(
    client, make_user, headers, profile, flash
) -> None:
    make_user("rita@example.com")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = headers["Accept-Language"]
    submit(client, "/login", {"email": "rita@example.com", "password": PASSWORD})

    assert heading(client.get("/profile")) == profile
    token = csrf_token(client.get("/profile"))
    client.post("/logout", data={"csrf_token": token})
    assert flash in client.get("/").get_data(as_text=True)


def test_unconfirmed_page_of_a_logged_in_user_is_translated(client, make_user) -> None:
    make_user("sam@example.com", confirmed=False)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]
    submit(client, "/login", {"email": "sam@example.com", "password": PASSWORD})

    body = client.get("/unconfirmed").get_data(as_text=True)

    assert "Wir haben einen Link an <strong>sam@example.com</strong> geschickt." in body
    assert "Link erneut schicken" in body


def test_form_errors_are_translated(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]

    response = submit(client, "/register", {"email": "", "password": "", "password_confirm": ""})

    body = response.get_data(as_text=True)
    assert "Geben Sie Ihre E-Mail-Adresse ein." in body
    assert "Wählen Sie ein Passwort." in body


def test_password_feedback_from_zxcvbn_is_translated(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]
    weak = "aaaaaaaaaaaaaaaaaaaa"

    response = submit(
        client, "/register", {"email": "a@example.com", "password": weak, "password_confirm": weak}
    )

    body = response.get_data(as_text=True)
    assert "Wiederholungen wie „aaa“ sind leicht zu erraten." in body
    assert "Vermeiden Sie wiederholte Wörter und Zeichen." in body


def test_login_required_message_is_translated(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]

    client.get("/profile")

    assert "Bitte melden Sie sich an" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("headers", "subject", "sentence"),
    [
        (ENGLISH, "Confirm your email address", "This link works for 24 hours."),
        (GERMAN, "Bestätigen Sie Ihre E-Mail-Adresse", "Dieser Link gilt 24 Stunden lang."),
    ],
    ids=["en", "de"],
)
def test_confirmation_mail_is_in_the_language_of_the_request(
    client, outbox, headers, subject, sentence
) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = headers["Accept-Language"]
    submit(
        client,
        "/register",
        {"email": "vera@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    [mail] = outbox()
    assert mail.subject == subject
    assert sentence in mail.text
    assert sentence in mail.html
    assert f'<html lang="{headers["Accept-Language"][:2]}">' in mail.html


@pytest.mark.parametrize(
    ("headers", "subject"),
    [(ENGLISH, "Someone tried to sign up with your address"), (GERMAN, "Jemand wollte sich")],
    ids=["en", "de"],
)
def test_account_exists_mail_is_translated(client, outbox, make_user, headers, subject) -> None:
    make_user("walt@example.com")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = headers["Accept-Language"]
    submit(
        client,
        "/register",
        {"email": "walt@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    [mail] = outbox()
    assert mail.subject.startswith(subject)


def _host_app(tmp_path: Path, babel: Babel | None = None, **config) -> Flask:
    """A minimal application of its own: not the demo, no layout of its own."""
    db = SQLAlchemy()
    models = define_models(db)
    app = Flask("host")
    app.config.update(
        SECRET_KEY="host-secret-key-0123456789-0123456789",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite3'}",
        MAILPROOF_BASE_URL="https://host.test",
        MAILPROOF_DELIVERY="external",
        **config,
    )
    db.init_app(app)
    if babel is not None:
        babel.init_app(app, locale_selector=lambda: "de")
    Mailproof(db=db, models=models).init_app(app)
    with app.app_context():
        db.create_all()
    return app


def test_app_without_babel_gets_one_choosing_from_accept_language(tmp_path) -> None:
    app = _host_app(tmp_path)
    client = app.test_client()

    assert "babel" in app.extensions
    assert heading(client.get("/login", headers=GERMAN)) == "Anmelden"
    assert heading(client.get("/login", headers=ENGLISH)) == "Log in"
    assert heading(client.get("/login", headers={"Accept-Language": "fr"})) == "Log in"


def test_supported_locales_are_a_setting(tmp_path) -> None:
    app = _host_app(tmp_path, MAILPROOF_LOCALES=["en"])

    assert heading(app.test_client().get("/login", headers=GERMAN)) == "Log in"


def test_host_locale_selector_decides(tmp_path) -> None:
    app = _host_app(tmp_path, babel=Babel())

    assert heading(app.test_client().get("/login", headers=ENGLISH)) == "Anmelden"


def _host_catalog(folder: Path, translations: dict[str, str]) -> Path:
    """Compile a German catalog of the host application's own into ``folder``."""
    catalog = Catalog(locale="de")
    for source, translated in translations.items():
        catalog.add(source, translated)
    target = folder / "de" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as mo_file:
        write_mo(mo_file, catalog)
    return folder


def test_host_catalog_overrides_a_message_and_keeps_the_rest(tmp_path) -> None:
    folder = _host_catalog(tmp_path / "translations", {"Log in": "Einloggen"})
    app = _host_app(tmp_path, babel=Babel(), BABEL_TRANSLATION_DIRECTORIES=str(folder))

    body = app.test_client().get("/login").get_data(as_text=True)

    assert heading(app.test_client().get("/login")) == "Einloggen"
    assert "Passwort" in body


def test_babel_set_up_after_the_extension_still_finds_its_catalogs(tmp_path) -> None:
    app = _host_app(tmp_path)
    Babel(app, locale_selector=lambda: "de")

    assert heading(app.test_client().get("/login", headers=ENGLISH)) == "Anmelden"


def test_expired_form_page_is_translated(client) -> None:
    response = client.post("/login", data={"email": "x@example.com"}, headers=GERMAN)

    assert response.status_code == 400
    assert heading(response) == "Dieses Formular ist abgelaufen"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/change-password", "Passwort ändern"),
        ("/change-email", "E-Mail-Adresse ändern"),
    ],
)
def test_logged_in_forms_of_the_other_flows_are_translated(
    client, make_user, path, expected
) -> None:
    make_user("vera@example.com")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]
    submit(client, "/login", {"email": "vera@example.com", "password": PASSWORD})

    assert heading(client.get(path)) == expected


def test_reset_request_flash_and_mail_are_translated(client, make_user, outbox) -> None:
    make_user("wim@example.com")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]

    submit(client, "/reset", {"email": "wim@example.com"})

    body = client.get("/login").get_data(as_text=True)
    assert "ist ein Link zum Zurücksetzen seines Passworts unterwegs." in body
    [mail] = outbox("wim@example.com")
    assert mail.subject == "Passwort zurücksetzen"


def test_contact_length_limit_is_written_the_german_way(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]

    response = submit(
        client, "/contact", {"name": "Ada", "email": "ada@example.com", "message": "x" * 5001}
    )

    assert "Verwenden Sie höchstens 5.000 Zeichen; dies hat 5.001." in response.get_data(
        as_text=True
    )


def test_site_copy_of_a_contact_message_keeps_the_site_language(client, outbox) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN["Accept-Language"]
    submit(client, "/contact", {"name": "Ada", "email": "ada@example.com", "message": "Hallo"})
    [verify] = outbox("ada@example.com")

    submit(client, verify.link("/contact/verify/"))

    assert verify.subject.startswith("Haben Sie uns geschrieben?")
    [copy] = [m for m in outbox() if m.kind == "contact_delivery"]
    assert copy.subject.startswith("Contact form: message")
