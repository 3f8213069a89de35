"""Sign in by mail through the JSON API: the same rules, the same error codes."""

from __future__ import annotations

import re

import pytest

EMAIL = "ada@example.com"


@pytest.fixture
def api(client):
    def post(path, body):
        token = client.get("/api/csrf").get_json()["csrf_token"]
        return client.post(path, json=body, headers={"X-CSRFToken": token})

    return post


def token_of(outbox, email=EMAIL):
    return outbox(email)[-1].link("/login/email/").removeprefix("/login/email/")


def test_the_request_answers_202_and_mails_a_link(api, make_user, outbox):
    make_user(EMAIL)

    response = api("/api/login/email", {"email": EMAIL})

    assert response.status_code == 202
    assert token_of(outbox)


def test_the_token_signs_in_the_session_that_asked(api, make_user, outbox, client):
    make_user(EMAIL)
    api("/api/login/email", {"email": EMAIL})

    response = api("/api/login/email/confirm", {"token": token_of(outbox)})

    assert response.status_code == 200
    assert response.get_json()["email"] == EMAIL
    assert client.get("/api/me").get_json()["email"] == EMAIL


def test_another_session_gets_409_other_device_until_it_confirms(app, api, make_user, outbox):
    make_user(EMAIL)
    api("/api/login/email", {"email": EMAIL})
    other = app.test_client()
    token = other.get("/api/csrf").get_json()["csrf_token"]

    def confirm(body):
        return other.post("/api/login/email/confirm", json=body, headers={"X-CSRFToken": token})

    refused = confirm({"token": token_of(outbox)})
    accepted = confirm({"token": token_of(outbox), "other_device": True})

    assert (refused.status_code, refused.get_json()["code"]) == (409, "other_device")
    assert accepted.status_code == 200


def test_a_used_token_answers_409_token_used(api, make_user, outbox):
    make_user(EMAIL)
    api("/api/login/email", {"email": EMAIL})
    token = token_of(outbox)
    api("/api/login/email/confirm", {"token": token})

    again = api("/api/login/email/confirm", {"token": token, "other_device": True})

    assert (again.status_code, again.get_json()["code"]) == (409, "token_used")


@pytest.mark.parametrize("token", ["x", "a" * 1024, "a.b.c"])
def test_junk_tokens_answer_400_token_invalid(api, token):
    response = api("/api/login/email/confirm", {"token": token})

    assert (response.status_code, response.get_json()["code"]) == (400, "token_invalid")


def test_a_confirmation_token_answers_token_invalid(api, outbox):
    api("/api/register", {"email": EMAIL, "password": "a long enough password for it 3915"})
    token = outbox(EMAIL)[0].link("/confirm/").removeprefix("/confirm/")

    response = api("/api/login/email/confirm", {"token": token})

    assert response.get_json()["code"] == "token_invalid"


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")
def test_the_code_signs_in_and_a_wrong_one_is_code_invalid(api, make_user, outbox):
    make_user(EMAIL)
    api("/api/login/email", {"email": EMAIL})
    code = re.search(r"^\s+(\d{6})\s*$", outbox(EMAIL)[0].text, re.MULTILINE).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = api("/api/login/email/code", {"email": EMAIL, "code": wrong})
    unknown = api("/api/login/email/code", {"email": "nobody@example.com", "code": wrong})
    accepted = api("/api/login/email/code", {"email": EMAIL, "code": code})

    assert refused.get_json() == unknown.get_json()
    assert (refused.status_code, refused.get_json()["code"]) == (400, "code_invalid")
    assert accepted.status_code == 200


def test_the_openapi_document_lists_the_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    assert {"/api/login/email", "/api/login/email/confirm", "/api/login/email/code"} <= set(paths)


@pytest.mark.app_config(MAILPROOF_PASSWORDLESS="off")
def test_passwordless_off_answers_404(api):
    assert api("/api/login/email", {"email": EMAIL}).status_code == 404


@pytest.mark.parametrize("body", [{}, {"email": 5}, {"email": EMAIL, "extra": 1}, [], "x"])
def test_bad_bodies_answer_4xx(api, body):
    assert 400 <= api("/api/login/email", body).status_code < 500
