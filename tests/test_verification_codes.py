"""Six-digit codes instead of (or with) links, for apps where a link opens the wrong place."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof.errors import CodeError
from flask_mailproof.flows.codes import issue_code, redeem_code
from flask_mailproof.tokens import Purpose
from helpers import PASSWORD


@pytest.fixture
def config(config):
    return {"MAILPROOF_VERIFICATION_CODES": "with_link", **config}


@pytest.fixture
def api(client):
    token = client.get("/api/csrf").get_json()["csrf_token"]

    def post(path, body):
        return client.post(path, json=body, headers={"X-CSRFToken": token})

    return post


def mailed_code(mail):
    match = re.search(r"^\s+(\d{6})\s*$", mail.text, re.MULTILINE)
    assert match, mail.text
    return match.group(1)


def register(api, email="code@example.com"):
    assert api("/api/register", {"email": email, "password": PASSWORD}).status_code == 202


def test_mail_carries_code_and_link(api, outbox):
    register(api)
    [mail] = outbox()

    assert mailed_code(mail) in mail.html
    assert mail.link("/confirm/")


def test_right_code_confirms(api, outbox, get_user):
    register(api)

    response = api(
        "/api/confirm-code", {"email": "code@example.com", "code": mailed_code(outbox()[0])}
    )

    assert response.status_code == 200
    assert get_user("code@example.com").confirmed_at is not None


def test_code_is_single_use(api, outbox):
    register(api)
    code = mailed_code(outbox()[0])
    api("/api/confirm-code", {"email": "code@example.com", "code": code})

    again = api("/api/confirm-code", {"email": "code@example.com", "code": code})

    assert again.status_code == 400
    assert again.get_json()["code"] == "code_invalid"


def test_five_wrong_tries_exhaust_the_code(api, outbox, get_user):
    register(api)
    code = mailed_code(outbox()[0])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [
        api("/api/confirm-code", {"email": "code@example.com", "code": wrong}) for _ in range(5)
    ]

    # Past the failed-login lock that five wrong codes also set on the address.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)):
        right = api("/api/confirm-code", {"email": "code@example.com", "code": code})

    assert [a.get_json()["code"] for a in answers] == ["code_invalid"] * 5
    assert right.status_code == 400
    assert right.get_json()["code"] == "code_invalid"
    assert "ask for a new one" in right.get_json()["message"]
    assert get_user("code@example.com").confirmed_at is None


def test_code_expires_with_the_link(api, outbox, client):
    register(api)
    code = mailed_code(outbox()[0])

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, seconds=5)):
        token = client.get("/api/csrf").get_json()["csrf_token"]
        response = client.post(
            "/api/confirm-code",
            json={"email": "code@example.com", "code": code},
            headers={"X-CSRFToken": token},
        )

    assert response.status_code == 410
    assert response.get_json()["code"] == "code_expired"


def test_code_is_bound_to_its_account(api, outbox, get_user):
    register(api, "one@example.com")
    register(api, "two@example.com")
    code_for_one = mailed_code(outbox("one@example.com")[0])

    response = api("/api/confirm-code", {"email": "two@example.com", "code": code_for_one})

    assert response.status_code == 400
    assert get_user("two@example.com").confirmed_at is None


def test_unknown_address_answers_like_a_wrong_code(api):
    response = api("/api/confirm-code", {"email": "nobody@example.com", "code": "123456"})

    assert response.status_code == 400
    assert response.get_json()["code"] == "code_invalid"


def test_a_resend_replaces_the_code(api, outbox, client, login, app):
    register(api)
    old = mailed_code(outbox()[0])
    with app.app_context():
        user = db.session.scalars(select(models.user)).one()
        user.confirmation_sent_at = user.confirmation_sent_at - dt.timedelta(minutes=10)
        db.session.commit()
    login("code@example.com")
    token = client.get("/api/csrf").get_json()["csrf_token"]
    client.post("/api/resend", json={}, headers={"X-CSRFToken": token})
    new = mailed_code(outbox()[-1])

    stale = client.post(
        "/api/confirm-code",
        json={"email": "code@example.com", "code": old},
        headers={"X-CSRFToken": token},
    )

    assert new != old  # two random codes collide once in a million runs
    assert stale.status_code == 400


def test_codes_are_stored_only_as_hashes(api, outbox, app):
    register(api)
    code = mailed_code(outbox()[0])

    with app.app_context():
        row = db.session.scalars(select(models.verification_code)).one()

    assert code not in row.code_hash
    assert len(row.code_hash) == 64


@pytest.mark.parametrize("config", [{"MAILPROOF_VERIFICATION_CODES": "only"}], indirect=True)
def test_only_mode_mails_no_link(api, outbox):
    register(api)
    [mail] = outbox()

    assert mail.links == []
    assert mailed_code(mail)


# The flow itself, below the API: what the answers above cannot tell apart.


def issued(app, email, purpose=Purpose.CONFIRM):
    with app.app_context():
        user = db.session.scalars(select(models.user).filter_by(email=email)).one()
        code = issue_code(user, purpose)
        db.session.commit()
        return code


def redeemed(app, email, code, purpose=Purpose.CONFIRM):
    """Return the account's address, or the name of the refusal."""
    with app.app_context():
        try:
            return redeem_code(email, purpose, code).email
        except CodeError as refusal:
            return type(refusal).__name__


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_codes_are_drawn_from_all_six_digits(app, make_user):
    make_user("code@example.com")

    codes = [issued(app, "code@example.com") for _ in range(40)]

    assert max(int(code) for code in codes) >= 100_000  # all below: p = 10**-40
    assert len(set(codes)) >= 38


def test_each_account_and_purpose_keeps_its_own_code(app, make_user):
    make_user("one@example.com"), make_user("two@example.com")
    one = issued(app, "one@example.com")
    two = issued(app, "two@example.com")
    one_reset = issued(app, "one@example.com", Purpose.RESET)

    assert redeemed(app, "two@example.com", two) == "two@example.com"
    assert redeemed(app, "one@example.com", one_reset, Purpose.RESET) == "one@example.com"
    assert redeemed(app, "one@example.com", one) == "one@example.com"


def test_the_right_code_still_works_after_four_wrong_tries(app, make_user):
    make_user("code@example.com")
    code = issued(app, "code@example.com")

    tries = [redeemed(app, "code@example.com", wrong(code)) for _ in range(4)]

    assert tries == ["CodeInvalid"] * 4
    assert redeemed(app, "code@example.com", code) == "code@example.com"


def test_the_fifth_wrong_try_is_the_last(app, make_user):
    make_user("code@example.com")
    code = issued(app, "code@example.com")

    tries = [redeemed(app, "code@example.com", wrong(code)) for _ in range(5)]

    assert tries == ["CodeInvalid"] * 5
    assert redeemed(app, "code@example.com", code) == "CodeExhausted"


def test_a_code_works_to_the_end_of_its_links_lifetime(app, make_user, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    make_user("one@example.com"), make_user("two@example.com")
    one, two = issued(app, "one@example.com"), issued(app, "two@example.com")

    time_machine.move_to("2026-06-02 12:00:00", tick=False)  # MAILPROOF_CONFIRM_MAX_AGE: a day
    at_the_end = redeemed(app, "one@example.com", one)
    time_machine.move_to("2026-06-02 12:00:01", tick=False)
    past_it = redeemed(app, "two@example.com", two)

    assert (at_the_end, past_it) == ("one@example.com", "CodeExpired")


def test_a_malformed_address_answers_like_a_wrong_code(app, make_user):
    # Whatever is typed as the address, the one refusal: no other error (a 500) tells the
    # typed string apart from an address without an account.
    make_user("code@example.com")
    issued(app, "code@example.com")

    assert redeemed(app, "not an address", "123456") == "CodeInvalid"
