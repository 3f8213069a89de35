"""Registration: accounts, the confirmation mail, and no account enumeration."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from email_validator import EmailUndeliverableError, deliverability
from sqlalchemy import update

from demo.models import db, models
from flask_mailproof.clock import utcnow
from flask_mailproof.flows import registration
from flask_mailproof.state import current_state
from helpers import BASE_URL, PASSWORD, csrf_token, register, submit, without_csrf


def test_register_creates_unconfirmed_account_and_mails_link(client, outbox, get_user):
    response = register(client, "Alice@Example.com")

    assert response.status_code == 302
    assert response.headers["Location"] == "/unconfirmed"
    user = get_user("alice@example.com")
    assert user is not None
    assert user.confirmed_at is None
    [mail] = outbox()
    assert mail.to == "Alice@example.com"
    assert mail.link("/confirm/").startswith("/confirm/")
    assert all(link.startswith(BASE_URL + "/") for link in mail.links)
    assert "24 hours" in mail.text


def test_register_does_not_log_in(client):
    register(client)

    assert client.get("/profile").status_code == 302
    assert client.get("/profile").headers["Location"].startswith("/login")


def test_unconfirmed_page_after_registration_says_link_is_on_its_way(client):
    response = register(client)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Check your inbox" in page
    assert "A mail is on its way to <strong>alice@example.com</strong>." in page


def test_full_sign_up_confirm_login_reaches_profile(client, outbox, login):
    register(client)
    link = outbox()[0].link("/confirm/")

    assert client.get(link).status_code == 200
    confirmed = submit(client, link)
    login("alice@example.com")

    assert confirmed.headers["Location"] == "/login"
    assert client.get("/profile").status_code == 200


def test_confirmation_mail_is_multipart_with_html_and_text(client, outbox):
    register(client)

    [mail] = outbox()
    assert mail.headers.get_content_type() == "multipart/alternative"
    link = mail.links[0]
    assert link in mail.text
    assert f'href="{link}"' in mail.html
    assert "24 hours" in mail.html


def test_mailed_links_ignore_host_and_forwarded_headers(client, outbox):
    page = client.get("/register", headers={"Host": "evil.test"})
    client.post(
        "/register",
        data={
            "csrf_token": csrf_token(page),
            "email": "alice@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        headers={
            "Host": "evil.test",
            "X-Forwarded-Host": "evil.test",
            "X-Forwarded-Proto": "http",
        },
    )

    [mail] = outbox()
    assert "evil.test" not in mail.text + mail.html
    assert all(link.startswith(BASE_URL + "/") for link in mail.links)


def _shape(response):
    """What an observer sees of an answer: status, target, body, cookie names and flags."""
    set_cookies = response.headers.getlist("Set-Cookie")
    cookies = sorted(re.sub(r"^([^=]+)=[^;]*", r"\1", header) for header in set_cookies)
    return response.status_code, response.headers.get("Location"), response.data, cookies


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "unconfirmed"])
def test_registering_an_existing_address_answers_exactly_like_a_new_one(app, make_user, confirmed):
    make_user("taken@example.com", confirmed=confirmed)
    new_client, existing_client = app.test_client(), app.test_client()

    new = register(new_client, "fresh@example.com")
    existing = register(existing_client, "taken@example.com")

    assert _shape(existing) == _shape(new)
    assert _shape(new)[3], "the answer sets a cookie; compare its name and flags"
    follow_new = new_client.get(new.headers["Location"])
    follow_existing = existing_client.get(existing.headers["Location"])
    # Each page names the address its own browser typed, and nothing else differs.
    assert without_csrf(follow_existing.text).replace("taken@example.com", "ADDRESS") == (
        without_csrf(follow_new.text).replace("fresh@example.com", "ADDRESS")
    )


def test_registering_a_confirmed_address_mails_its_owner_a_notice(client, make_user, outbox):
    make_user("taken@example.com")

    register(client, "Taken@Example.com", password="another long passphrase here")

    [mail] = outbox()
    assert mail.to == "taken@example.com"
    assert mail.kind == "account_exists"
    assert "Someone tried to sign up" in mail.subject
    assert "log in" in mail.text
    assert f"{BASE_URL}/login" in mail.links
    assert not any("/confirm/" in link for link in mail.links)


def test_the_notice_to_a_confirmed_address_offers_the_reset_page(client, make_user, outbox):
    """Whoever signs up again for their own address has likely forgotten that they have an
    account, or its password: the notice gives them the way back, not only the login page."""
    make_user("taken@example.com")

    register(client, "taken@example.com", password="another long passphrase here")

    [mail] = outbox()
    assert f"{BASE_URL}/reset" in mail.links
    assert f'href="{BASE_URL}/reset"' in mail.html


def test_registering_an_existing_address_keeps_its_password(client, make_user, get_user):
    before = make_user("taken@example.com")

    register(client, "taken@example.com", password="another long passphrase here")

    assert get_user("taken@example.com").password_hash == before.password_hash


def test_registering_an_unconfirmed_address_again_resends_its_link(
    client, make_user, outbox, time_machine
):
    time_machine.move_to("2026-01-05 12:00:00", tick=False)
    make_user("pending@example.com", confirmed=False)

    time_machine.shift(3600)
    register(client, "pending@example.com")

    [mail] = outbox()
    assert mail.kind == "confirm"
    assert mail.to == "pending@example.com"


def test_signing_up_again_supersedes_every_link_mailed_before(app, outbox, time_machine):
    """The first sign-up's link and a resent one are both older than the second sign-up's:
    each opens the "a newer link was sent" page, with its button for a fresh link, rather
    than the page for a link that never worked."""
    time_machine.move_to("2026-01-05 12:00:00", tick=False)
    register(app.test_client(), "pending@example.com")
    time_machine.shift(180)
    submit(app.test_client(), "/resend", {"email": "pending@example.com"})
    time_machine.shift(180)
    register(app.test_client(), "pending@example.com", password="another long passphrase here")

    *older, latest = [mail.link("/confirm/") for mail in outbox("pending@example.com")]
    assert len(older) == 2
    for link in older:
        page = app.test_client().get(link)
        assert page.status_code == 410
        assert "A newer link was sent to you" in page.get_data(as_text=True)
    assert app.test_client().get(latest).status_code == 200


@pytest.mark.parametrize("link_sent", [False, True], ids=["no-recent-link", "link-sent-recently"])
def test_a_sign_up_that_read_the_account_before_its_confirmation_leaves_it_as_confirmed(
    app, make_user, get_user, outbox, monkeypatch, link_sent
):
    """The sign-up saw the account unconfirmed, and its owner confirmed it meanwhile: the
    account is proven now, so the sign-up's stranger password, new session stamp (which ends
    every session) and contested mark (kept on the row for a host app to read) must not land
    on it."""
    make_user(
        "racing@example.com", confirmed=False, confirmation_sent_at=utcnow() if link_sent else None
    )
    before = get_user("racing@example.com")
    real_lookup = registration.find_user

    def lookup_then_confirmed_elsewhere(address):
        user = real_lookup(address)
        db.session.execute(
            update(models.user).where(models.user.id == user.id).values(confirmed_at=utcnow()),
            execution_options={"synchronize_session": False},  # the other request's write
        )
        return user

    monkeypatch.setattr(registration, "find_user", lookup_then_confirmed_elsewhere)

    register(app.test_client(), "racing@example.com", password="another long passphrase here")

    after = get_user("racing@example.com")
    assert after.confirmed_at is not None
    assert (after.password_hash, after.session_stamp) == (
        before.password_hash,
        before.session_stamp,
    )
    assert after.contested_at is None
    assert outbox() == []


def test_extra_fields_like_confirmed_at_and_is_admin_are_ignored(client, get_user):
    register(client, confirmed_at="2020-01-01 00:00:00", is_admin="1", id="7")

    user = get_user("alice@example.com")
    assert user.confirmed_at is None
    assert user.is_admin is False


def test_registration_form_needs_csrf_token(client, get_user):
    response = client.post(
        "/register",
        data={"email": "alice@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    assert response.status_code == 400
    assert get_user("alice@example.com") is None


def test_password_is_not_stored_in_clear(client, get_user):
    register(client)

    stored = get_user("alice@example.com").password_hash
    assert PASSWORD not in stored
    assert stored.startswith("$argon2id$")


def test_sign_up_notices_are_limited_per_address(app, make_user, outbox, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    make_user("taken@example.com")

    first = register(app.test_client(), "taken@example.com")
    time_machine.shift(179)
    second = register(app.test_client(), "taken@example.com")
    time_machine.shift(1)
    register(app.test_client(), "taken@example.com")

    assert _shape(second) == _shape(first), "a held-back notice changes nothing in the answer"
    assert [mail.kind for mail in outbox()] == ["account_exists", "account_exists"]


def test_losing_a_race_to_the_unique_index_answers_like_any_registration(
    app, client, make_user, monkeypatch, outbox
):
    """The lookup saw no account, but one exists by the time of the insert."""
    make_user("taken@example.com")
    real_lookup = registration.find_user
    lookups = []

    def stale_first_lookup(address):
        lookups.append(address)
        return None if len(lookups) == 1 else real_lookup(address)

    monkeypatch.setattr(registration, "find_user", stale_first_lookup)

    response = register(client, "taken@example.com")

    assert response.status_code == 302
    assert response.headers["Location"] == "/unconfirmed"
    assert len(lookups) == 2
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(models.user)) == 1
    assert [mail.kind for mail in outbox()] == ["account_exists"]


def test_losing_a_race_to_a_pending_sign_up_signs_up_again_with_this_password(
    app, client, make_user, get_user, monkeypatch, outbox
):
    """The lookup saw no account, and by the insert an unconfirmed one holds the address, its
    link long sent: this sign-up is a sign-up again, and the account takes its password, as
    when the lookup had found it (never none: an account nobody can log in to)."""
    long_ago = utcnow() - dt.timedelta(days=1)
    make_user("pending@example.com", confirmed=False, confirmation_sent_at=long_ago)
    real_lookup = registration.find_user
    lookups = []

    def stale_first_lookup(address):
        lookups.append(address)
        return None if len(lookups) == 1 else real_lookup(address)

    monkeypatch.setattr(registration, "find_user", stale_first_lookup)

    register(client, "pending@example.com", password="the racing sign-ups passphrase")

    assert len(lookups) == 2
    user = get_user("pending@example.com")
    with app.app_context():
        assert current_state().passwords.verify(
            user.password_hash, "the racing sign-ups passphrase"
        )
    assert [mail.kind for mail in outbox()] == ["confirm"]


@pytest.mark.app_config(MAILPROOF_CHECK_DELIVERABILITY=True)
def test_with_deliverability_checks_on_a_domain_without_mail_is_refused(
    client, monkeypatch, get_user, outbox
):
    """MAILPROOF_CHECK_DELIVERABILITY promises that a mistyped domain is caught at sign-up:
    no account is made for an address whose confirmation mail could never arrive."""
    asked = []

    def no_mail_for(domain, *args, **kwargs):  # DNS, answered without the network
        asked.append(domain)
        raise EmailUndeliverableError(f"The domain name {domain} does not accept email.")

    monkeypatch.setattr(deliverability, "validate_email_deliverability", no_mail_for)

    response = register(client, "alice@nomail.example.org")

    assert response.status_code == 422
    assert "The domain nomail.example.org does not accept mail." in response.text
    assert asked == ["nomail.example.org"]
    assert get_user("alice@nomail.example.org") is None
    assert outbox() == []
