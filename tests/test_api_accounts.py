"""The API twins of reset, password change and email change, and reset codes."""

from __future__ import annotations

import re

import pytest

from helpers import PASSWORD

NEW_PASSWORD = "an entirely different passphrase"


@pytest.fixture
def api(client):
    class Api:
        def __init__(self) -> None:
            self.refresh()

        def refresh(self):
            self.token = client.get("/api/csrf").get_json()["csrf_token"]

        def post(self, path, body=None):
            return client.post(path, json=body or {}, headers={"X-CSRFToken": self.token})

        def login(self, email, password=PASSWORD):
            response = self.post("/api/login", {"email": email, "password": password})
            assert response.status_code == 200, response.get_json()
            self.refresh()

    return Api()


def token_of(mail, prefix):
    return mail.link(prefix).rsplit("/", 1)[1]


def test_reset_request_answers_the_same_for_every_address(api, make_user, outbox):
    make_user("known@example.com")

    known = api.post("/api/reset-request", {"email": "known@example.com"})
    unknown = api.post("/api/reset-request", {"email": "unknown@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert [m.to for m in outbox()] == ["known@example.com"]


def test_reset_by_token_sets_the_password_once(api, make_user, outbox, client):
    make_user("forgot@example.com")
    api.post("/api/reset-request", {"email": "forgot@example.com"})
    token = token_of(outbox()[0], "/reset/")

    done = api.post("/api/reset", {"token": token, "password": NEW_PASSWORD})
    again = api.post("/api/reset", {"token": token, "password": NEW_PASSWORD + " again"})

    assert done.status_code == 200
    assert again.status_code == 409
    assert again.get_json()["code"] == "token_used"
    assert api.post("/api/me").status_code == 405  # nobody was logged in by the reset
    assert client.get("/api/me").status_code == 401
    api.login("forgot@example.com", NEW_PASSWORD)


@pytest.mark.parametrize("config", [{"MAILPROOF_VERIFICATION_CODES": "with_link"}], indirect=True)
def test_reset_by_code(api, make_user, outbox):
    make_user("coder@example.com")
    api.post("/api/reset-request", {"email": "coder@example.com"})
    code = re.search(r"^\s+(\d{6})\s*$", outbox()[0].text, re.MULTILINE).group(1)

    done = api.post(
        "/api/reset-code", {"email": "coder@example.com", "code": code, "password": NEW_PASSWORD}
    )

    assert done.status_code == 200
    api.login("coder@example.com", NEW_PASSWORD)


@pytest.mark.parametrize("config", [{"MAILPROOF_VERIFICATION_CODES": "with_link"}], indirect=True)
def test_a_refused_password_does_not_use_up_the_reset_code(api, make_user, outbox):
    make_user("careful@example.com")
    api.post("/api/reset-request", {"email": "careful@example.com"})
    code = re.search(r"^\s+(\d{6})\s*$", outbox()[0].text, re.MULTILINE).group(1)

    weak = api.post(
        "/api/reset-code", {"email": "careful@example.com", "code": code, "password": "short"}
    )
    # Long and varied enough, but the address itself with its separators dropped.
    own_address = api.post(
        "/api/reset-code",
        {"email": "careful@example.com", "code": code, "password": "Careful.Example.com"},
    )
    good = api.post(
        "/api/reset-code", {"email": "careful@example.com", "code": code, "password": NEW_PASSWORD}
    )

    assert weak.status_code == own_address.status_code == 422
    assert "password" in weak.get_json()["fields"]
    assert own_address.get_json()["fields"]["password"] == [
        "Do not make your password out of your email address."
    ]
    assert good.status_code == 200


def test_change_password_needs_the_current_one(api, make_user):
    make_user("changer@example.com")
    api.login("changer@example.com")

    wrong = api.post(
        "/api/change-password", {"current_password": "not my password!!", "password": NEW_PASSWORD}
    )
    right = api.post(
        "/api/change-password", {"current_password": PASSWORD, "password": NEW_PASSWORD}
    )

    assert wrong.status_code == 401
    assert right.status_code == 200


def test_change_password_needs_a_confirmed_account(api, make_user):
    make_user("fresh@example.com", confirmed=False)
    api.login("fresh@example.com")

    response = api.post(
        "/api/change-password", {"current_password": PASSWORD, "password": NEW_PASSWORD}
    )

    assert response.status_code == 403
    assert response.get_json()["code"] == "not_confirmed"


def test_change_email_end_to_end(api, make_user, outbox, client):
    make_user("old@example.com")
    api.login("old@example.com")

    asked = api.post(
        "/api/change-email", {"email": "new@example.com", "current_password": PASSWORD}
    )
    token = token_of(outbox("new@example.com")[0], "/change-email/")
    changed = api.post("/api/change-email/confirm", {"token": token})

    assert asked.status_code == 202
    assert changed.status_code == 200
    assert client.get("/api/me").get_json()["email"] == "new@example.com"


def test_undo_link_puts_the_old_address_back(api, make_user, outbox, get_user):
    make_user("mine@example.com")
    api.login("mine@example.com")
    api.post("/api/change-email", {"email": "thief@example.com", "current_password": PASSWORD})
    api.post(
        "/api/change-email/confirm",
        {"token": token_of(outbox("thief@example.com")[0], "/change-email/")},
    )
    undo = token_of(outbox("mine@example.com")[-1], "/change-email/undo/")

    response = api.post("/api/change-email/undo", {"token": undo})

    assert response.status_code == 200
    assert get_user("mine@example.com") is not None


def test_unconfirmed_account_corrects_its_address_by_a_link(api, make_user, outbox, get_user):
    make_user("typo@exmaple.com", confirmed=False)
    api.login("typo@exmaple.com")

    response = api.post(
        "/api/change-email", {"email": "typo@example.com", "current_password": PASSWORD}
    )

    assert response.status_code == 202
    assert get_user("typo@example.com") is None
    [mail] = outbox("typo@example.com")
    assert mail.kind == "email_change"
    token = mail.link("/change-email/").rsplit("/", 1)[1]
    assert api.post("/api/change-email/confirm", {"token": token}).status_code == 200
    assert get_user("typo@example.com").confirmed_at is not None


def test_a_taken_address_is_answered_as_a_free_one(api, make_user, outbox):
    make_user("taken@example.com")
    make_user("typo@exmaple.com", confirmed=False)
    api.login("typo@exmaple.com")

    taken = api.post(
        "/api/change-email", {"email": "taken@example.com", "current_password": PASSWORD}
    )
    free = api.post(
        "/api/change-email", {"email": "free@example.com", "current_password": PASSWORD}
    )

    assert (taken.status_code, taken.get_json()) == (free.status_code, free.get_json())
    assert [m.kind for m in outbox("taken@example.com")] == ["email_change_taken"]


def test_change_email_needs_a_login(client, api):
    response = api.post("/api/change-email", {"email": "x@example.com", "current_password": "p"})

    assert response.status_code == 401
