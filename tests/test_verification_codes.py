"""Six-digit codes instead of (or with) links, for apps where a link opens the wrong place."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import select

from demo.models import db, models
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
