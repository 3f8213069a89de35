"""Sequences of flows that each hold alone: what one leaves behind must not let another in.

Two actors: the owner controls the mailbox; the attacker does not, but knows a password at
some point. Each test is one finding of a review of the account's life, and fails if its fix
is undone (``docs/security.md`` maps them).
"""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import func, select

from demo.models import db, models
from flask_mailproof.clock import utcnow
from flask_mailproof.flows import accounts
from helpers import csrf_token, register, submit

OWNER_PASSWORD = "the owner chose this one herself 3915"
ATTACKER_PASSWORD = "the attacker knows this one, 8472!"
ADDRESS = "victim@example.com"


def press(client, link):
    """Open a mailed link's page and press its one button (or POST as if it had one)."""
    client.get(link)
    # The session's CSRF token, which every form carries, even where the page had no button.
    return client.post(link, data={"csrf_token": csrf_token(client.get("/register"))})


def api_login(client, password=None, email=ADDRESS):
    """Log ``client`` in through the API; return the headers its later calls need."""
    headers = {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    body = {"email": email, "password": password or OWNER_PASSWORD}
    assert client.post("/api/login", json=body, headers=headers).status_code == 200
    # A login starts a fresh session, with a CSRF token of its own.
    return {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}


def log_in(client, password, email=ADDRESS, **extra):
    return submit(client, "/login", {"email": email, "password": password, **extra})


def logged_in(client):
    """Tell whether ``client``'s cookies still open the account's pages."""
    return client.get("/unconfirmed").get_data(as_text=True).count(ADDRESS) > 0 and (
        client.get("/profile").headers.get("Location", "").startswith("/login") is False
    )


def anonymous(client):
    return client.get("/profile").headers.get("Location", "").startswith("/login")


def login_records(app):
    """Count the server-side login records: what a copied cookie would still need."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(models.login_session))


def latest_link(outbox, kind, prefix, to=ADDRESS):
    return [m for m in outbox(to) if m.kind == kind][-1].link(prefix)


@pytest.fixture
def owner(app):
    return app.test_client()


@pytest.fixture
def attacker(app):
    return app.test_client()


# Finding 2: account pre-hijacking.


def test_the_owners_sign_up_ends_the_attackers_pending_account(owner, attacker, outbox, get_user):
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    assert log_in(attacker, ATTACKER_PASSWORD).status_code == 302

    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(owner, ADDRESS, OWNER_PASSWORD)
        press(owner, latest_link(outbox, "confirm", "/confirm/"))

        assert get_user(ADDRESS).confirmed_at is not None
        assert anonymous(attacker)
        assert log_in(attacker, ATTACKER_PASSWORD).status_code == 422
        assert log_in(owner, OWNER_PASSWORD).headers["Location"] == "/profile"


def test_a_second_sign_up_and_the_confirmation_delete_the_login_records(
    app, owner, attacker, outbox
):
    # The stamp rotation already refuses the old cookies; the records go too, so that no
    # login of the unproven account outlives the proof even if a stamp were ever kept.
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    log_in(attacker, ATTACKER_PASSWORD, remember="y")
    assert login_records(app) == 1

    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(owner, ADDRESS, OWNER_PASSWORD)
        assert login_records(app) == 0

        log_in(owner, OWNER_PASSWORD)
        assert login_records(app) == 1
        press(app.test_client(), latest_link(outbox, "confirm", "/confirm/"))
        assert login_records(app) == 0


def test_a_sign_up_within_the_resend_interval_changes_no_password(owner, attacker, outbox):
    register(owner, ADDRESS, OWNER_PASSWORD)
    register(attacker, ADDRESS, ATTACKER_PASSWORD)

    press(owner, latest_link(outbox, "confirm", "/confirm/"))

    assert log_in(attacker, ATTACKER_PASSWORD).status_code == 422
    assert log_in(owner, OWNER_PASSWORD).headers["Location"] == "/profile"


def test_the_owners_sign_up_within_the_resend_interval_keeps_the_attackers_password_out(
    owner, attacker, outbox
):
    """The attacker registered the address first; the owner signs up moments later, which
    changes no password but marks the sign-up contested. Her link (the attacker's sign-up's,
    the only one mailed) proves the mailbox from a browser that did not choose the password in
    force, so the attacker's password must not survive into the proven account."""
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    register(owner, ADDRESS, OWNER_PASSWORD)

    press(owner, latest_link(outbox, "confirm", "/confirm/"))

    assert log_in(attacker, ATTACKER_PASSWORD).status_code == 422
    assert [m.kind for m in outbox(ADDRESS)][-1] == "reset"


def test_a_contested_sign_up_leaves_other_pending_sign_ups_uncontested(app, attacker, outbox):
    """Signing one address up again marks that account alone: another person's pending
    sign-up, confirmed on their phone, keeps the password they chose, as any uncontested one."""
    register(app.test_client(), "bob@example.com", OWNER_PASSWORD)
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    register(app.test_client(), ADDRESS, OWNER_PASSWORD)  # within the interval: only the mark

    press(app.test_client(), latest_link(outbox, "confirm", "/confirm/", to="bob@example.com"))

    bobs_login = log_in(app.test_client(), OWNER_PASSWORD, email="bob@example.com")
    assert bobs_login.headers["Location"] == "/profile"


def test_confirming_the_attackers_later_sign_up_keeps_no_password(owner, attacker, outbox):
    register(owner, ADDRESS, OWNER_PASSWORD)
    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(attacker, ADDRESS, ATTACKER_PASSWORD)

        # The latest link in the owner's mailbox came from the attacker's sign-up.
        response = press(owner, latest_link(outbox, "confirm", "/confirm/"))

        assert response.status_code == 302
        assert log_in(attacker, ATTACKER_PASSWORD).status_code == 422
        assert log_in(owner, OWNER_PASSWORD).status_code == 422
        # The proven mailbox chooses the password instead.
        reset = latest_link(outbox, "reset", "/reset/")
        owner.get(reset)
        new = "a brand new password for the owner 5521"
        submit(owner, "/reset/set-password", {"password": new, "password_confirm": new})
        assert log_in(owner, new).headers["Location"] == "/profile"


def test_a_contested_sign_up_confirmed_on_another_device_keeps_no_password(app, attacker, outbox):
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(app.test_client(), ADDRESS, OWNER_PASSWORD)

        press(app.test_client(), latest_link(outbox, "confirm", "/confirm/"))

        assert log_in(app.test_client(), OWNER_PASSWORD).status_code == 422
        assert [m.kind for m in outbox(ADDRESS)][-1] == "reset"


def test_an_uncontested_sign_up_confirmed_on_another_device_keeps_its_password(app, outbox):
    register(app.test_client(), ADDRESS, OWNER_PASSWORD)

    press(app.test_client(), latest_link(outbox, "confirm", "/confirm/"))

    assert log_in(app.test_client(), OWNER_PASSWORD).headers["Location"] == "/profile"


def test_a_logged_in_browser_keeps_its_password_and_session_through_a_contest(
    app, owner, attacker, outbox
):
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(app.test_client(), ADDRESS, OWNER_PASSWORD)
        log_in(owner, OWNER_PASSWORD)

        response = press(owner, latest_link(outbox, "confirm", "/confirm/"))

        assert response.headers["Location"] == "/profile"
        assert owner.get("/profile").status_code == 200
        assert log_in(app.test_client(), OWNER_PASSWORD).headers["Location"] == "/profile"


def test_confirming_ends_every_session_opened_before(app, owner, outbox):
    register(owner, ADDRESS, OWNER_PASSWORD)
    other_device = app.test_client()
    log_in(other_device, OWNER_PASSWORD, remember="y")

    press(owner, latest_link(outbox, "confirm", "/confirm/"))

    assert anonymous(other_device)


def test_the_api_confirmation_keeps_no_password_of_a_contested_sign_up(app, attacker, outbox):
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(app.test_client(), ADDRESS, OWNER_PASSWORD)
        token = latest_link(outbox, "confirm", "/confirm/").rsplit("/", 1)[1]
        api = app.test_client()
        csrf = api.get("/api/csrf").get_json()["csrf_token"]

        response = api.post("/api/confirm", json={"token": token}, headers={"X-CSRFToken": csrf})

        assert response.status_code == 200
        assert "no password was kept" in response.get_json()["message"]
        assert log_in(app.test_client(), ATTACKER_PASSWORD).status_code == 422


def confirm_by_code(client, outbox):
    """Send the 6-digit code of the latest confirmation mail through the API; return the answer."""
    code = re.search(r"^\s+(\d{6})\s*$", latest_mail(outbox, "confirm").text, re.M).group(1)
    headers = {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    body = {"email": ADDRESS, "code": code}
    return client.post("/api/confirm-code", json=body, headers=headers).get_json()["message"]


def latest_mail(outbox, kind):
    return [m for m in outbox(ADDRESS) if m.kind == kind][-1]


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")
def test_a_code_keeps_the_password_of_the_browser_that_signed_up_last(app, owner, attacker, outbox):
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(owner, ADDRESS, OWNER_PASSWORD)

        answer = confirm_by_code(owner, outbox)

        assert answer == "Your address is confirmed."
        assert log_in(app.test_client(), OWNER_PASSWORD).headers["Location"] == "/profile"


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")
def test_a_code_keeps_the_password_of_a_browser_logged_in_since(app, owner, attacker, outbox):
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(app.test_client(), ADDRESS, OWNER_PASSWORD)
        log_in(owner, OWNER_PASSWORD)  # no receipt here: the sign-up was in another browser

        answer = confirm_by_code(owner, outbox)

        assert answer == "Your address is confirmed."
        assert log_in(app.test_client(), OWNER_PASSWORD).headers["Location"] == "/profile"


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")
def test_a_code_of_a_contested_sign_up_entered_elsewhere_keeps_no_password(app, attacker, outbox):
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    with time_machine.travel(utcnow().timestamp() + 200, tick=False):
        register(app.test_client(), ADDRESS, OWNER_PASSWORD)

        answer = confirm_by_code(app.test_client(), outbox)

        assert "no password was kept" in answer
        assert log_in(app.test_client(), OWNER_PASSWORD).status_code == 422


# Finding 6: a pending address change survives a reset or a password change.


def change_address(client, target, password=OWNER_PASSWORD):
    return submit(client, "/change-email", {"email": target, "current_password": password})


def test_a_password_reset_kills_a_pending_address_change(app, make_user, outbox, get_user):
    make_user(ADDRESS, password=ATTACKER_PASSWORD)
    attacker = app.test_client()
    log_in(attacker, ATTACKER_PASSWORD)
    change_address(attacker, "attacker@attacker.example", ATTACKER_PASSWORD)
    stolen = latest_link(outbox, "email_change", "/change-email/", to="attacker@attacker.example")

    owner = app.test_client()
    submit(owner, "/reset", {"email": ADDRESS})
    owner.get(latest_link(outbox, "reset", "/reset/"))
    submit(
        owner,
        "/reset/set-password",
        {"password": OWNER_PASSWORD, "password_confirm": OWNER_PASSWORD},
    )

    assert press(attacker, stolen).status_code == 410
    assert get_user(ADDRESS) is not None


def test_a_password_change_kills_a_pending_address_change(app, make_user, outbox, get_user):
    make_user(ADDRESS, password=ATTACKER_PASSWORD)
    attacker, owner = app.test_client(), app.test_client()
    log_in(attacker, ATTACKER_PASSWORD)
    change_address(attacker, "attacker@attacker.example", ATTACKER_PASSWORD)
    stolen = latest_link(outbox, "email_change", "/change-email/", to="attacker@attacker.example")

    log_in(owner, ATTACKER_PASSWORD)
    submit(
        owner,
        "/change-password",
        {
            "current_password": ATTACKER_PASSWORD,
            "password": OWNER_PASSWORD,
            "password_confirm": OWNER_PASSWORD,
        },
    )

    assert press(attacker, stolen).status_code == 410
    assert get_user(ADDRESS) is not None


# Finding 5: guessing the current password through the address change.


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="3 per minute")
def test_wrong_passwords_at_the_address_change_count_as_failed_logins(client, make_user):
    make_user(ADDRESS, password=OWNER_PASSWORD)
    log_in(client, OWNER_PASSWORD)

    answers = [
        change_address(client, "new@example.com", f"guess number {i} of many").status_code
        for i in range(4)
    ]

    assert answers == [422, 422, 422, 429]
    assert log_in(client, OWNER_PASSWORD).status_code == 429


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_ADDRESS="2 per 5 minutes")
def test_wrong_passwords_at_the_address_change_count_against_the_account(app, make_user):
    make_user(ADDRESS, password=OWNER_PASSWORD)
    thief = app.test_client()
    log_in(thief, OWNER_PASSWORD)

    for i in range(2):
        change_address(thief, "new@example.com", f"guess number {i} of many")

    assert change_address(thief, "new@example.com", OWNER_PASSWORD).status_code == 429


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="2 per minute")
def test_wrong_passwords_at_the_api_address_change_count_as_failed_logins(client, make_user):
    make_user(ADDRESS, password=OWNER_PASSWORD)
    headers = api_login(client)

    answers = [
        client.post(
            "/api/change-email",
            json={"email": "new@example.com", "current_password": f"guess number {i} of many"},
            headers=headers,
        ).status_code
        for i in range(3)
    ]

    assert answers == [401, 401, 429]


# Finding 4: the address change mails nobody over and over.


def test_one_stranger_gets_one_address_change_mail_per_interval(app, make_user, outbox):
    for i in range(3):
        make_user(f"user{i}@example.com", password=OWNER_PASSWORD)
        client = app.test_client()
        log_in(client, OWNER_PASSWORD, email=f"user{i}@example.com")
        assert change_address(client, "stranger@example.com").status_code == 302

    assert len(outbox("stranger@example.com")) == 1


def test_one_account_cannot_mail_address_after_address(client, make_user, outbox):
    make_user(ADDRESS, password=OWNER_PASSWORD)
    log_in(client, OWNER_PASSWORD)

    answers = [change_address(client, f"stranger{i}@example.com").status_code for i in range(4)]

    assert answers == [302, 302, 302, 429]
    assert len(outbox()) == 3


def test_an_unconfirmed_account_cannot_skip_the_interval_by_switching_addresses(client, outbox):
    register(client, ADDRESS, OWNER_PASSWORD)
    log_in(client, OWNER_PASSWORD)

    answers = [change_address(client, f"typo{i}@example.com").status_code for i in range(5)]

    assert answers.count(429) == 2
    assert len(outbox()) == 1 + 3


@pytest.mark.app_config(MAILPROOF_LIMIT_EMAIL_CHANGE_PER_IP="2 per minute")
def test_address_changes_are_limited_per_client(app, make_user):
    answers = []
    for i in range(3):
        make_user(f"user{i}@example.com", password=OWNER_PASSWORD)
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        log_in(client, OWNER_PASSWORD, email=f"user{i}@example.com")
        answers.append(change_address(client, f"new{i}@example.com").status_code)

    assert answers == [302, 302, 429]


def test_the_api_address_change_is_limited_per_account(client, make_user):
    make_user(ADDRESS, password=OWNER_PASSWORD)
    headers = api_login(client)

    answers = [
        client.post(
            "/api/change-email",
            json={"email": f"new{i}@example.com", "current_password": OWNER_PASSWORD},
            headers=headers,
        ).status_code
        for i in range(4)
    ]

    assert answers == [202, 202, 202, 429]


# Every lookup by a typed address trusts only an exact key match (CVE-2019-19844).


@pytest.fixture
def loose_collation(monkeypatch):
    """Look accounts up as MariaDB's *_ci collations compare: a dotless i equals an i."""
    real_lookup = accounts._user_with_key
    monkeypatch.setattr(
        accounts, "_user_with_key", lambda key: real_lookup(key.replace("\u0131", "i"))
    )


@pytest.mark.usefixtures("loose_collation")
def test_a_loose_match_logs_nobody_in(client, make_user):
    make_user("mike@example.com", password=OWNER_PASSWORD)

    assert log_in(client, OWNER_PASSWORD, email="m\u0131ke@example.com").status_code == 422


@pytest.mark.usefixtures("loose_collation")
def test_a_loose_match_is_not_the_account_at_sign_up(client, make_user, outbox):
    make_user("mike@example.com")

    register(client, "m\u0131ke@example.com", OWNER_PASSWORD)

    assert outbox("mike@example.com") == []
