"""The JSON API: every core flow driven through /api alone, and one error shape everywhere."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pydantic
import pytest
import time_machine
from openapi_spec_validator import validate

from demo import create_app
from flask_mailproof.api import schemas
from helpers import PASSWORD


@pytest.fixture
def api(client):
    """A JSON client that sends the session's CSRF token like a single-page app does."""

    class Api:
        def __init__(self) -> None:
            self.token = client.get("/api/csrf").get_json()["csrf_token"]

        def post(self, path, body=None, **kwargs):
            headers = {"X-CSRFToken": self.token, **kwargs.pop("headers", {})}
            return client.post(
                path, json=body if body is not None else {}, headers=headers, **kwargs
            )

        def get(self, path):
            return client.get(path)

        def refresh_token(self):
            self.token = client.get("/api/csrf").get_json()["csrf_token"]

    return Api()


def test_csrf_endpoint_gives_a_token(api):
    assert len(api.token) > 20


def test_post_without_csrf_header_is_refused_in_the_api_shape(client, get_user):
    response = client.post("/api/register", json={"email": "a@example.com", "password": PASSWORD})

    assert response.status_code == 400
    assert response.get_json()["code"] == "csrf_failed"
    assert get_user("a@example.com") is None


def test_register_answers_the_same_for_new_and_existing_addresses(api, make_user, outbox):
    make_user("taken@example.com")

    new = api.post("/api/register", {"email": "new@example.com", "password": PASSWORD})
    taken = api.post("/api/register", {"email": "taken@example.com", "password": PASSWORD})

    assert new.status_code == taken.status_code == 202
    assert new.get_json() == taken.get_json()
    assert [m.kind for m in outbox()] == ["confirm", "account_exists"]


def test_whole_sign_up_through_the_api(api, outbox):
    api.post("/api/register", {"email": "spa@example.com", "password": PASSWORD})
    token = outbox()[0].link("/confirm/").rsplit("/", 1)[1]

    confirmed = api.post("/api/confirm", {"token": token})
    logged_in = api.post("/api/login", {"email": "spa@example.com", "password": PASSWORD})
    api.refresh_token()
    me = api.get("/api/me")

    assert confirmed.status_code == 200
    assert logged_in.status_code == 200
    assert me.get_json()["confirmed"] is True
    assert me.get_json()["email"] == "spa@example.com"


def test_confirming_twice_says_already_confirmed(api, outbox):
    api.post("/api/register", {"email": "twice@example.com", "password": PASSWORD})
    token = outbox()[0].link("/confirm/").rsplit("/", 1)[1]
    api.post("/api/confirm", {"token": token})

    again = api.post("/api/confirm", {"token": token})

    assert again.status_code == 409
    assert again.get_json()["code"] == "already_confirmed"


def test_tampered_token_is_token_invalid(api):
    response = api.post("/api/confirm", {"token": "eyJ1IjoxfQ.AAAA.BBBB"})

    assert response.status_code == 400
    assert response.get_json()["code"] == "token_invalid"


def test_expired_token_is_token_expired(api, outbox):
    api.post("/api/register", {"email": "late@example.com", "password": PASSWORD})
    token = outbox()[0].link("/confirm/").rsplit("/", 1)[1]

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)):
        api.refresh_token()  # the CSRF token has its own, shorter life
        response = api.post("/api/confirm", {"token": token})

    assert response.status_code == 410
    assert response.get_json()["code"] == "token_expired"


def test_login_with_wrong_password_is_invalid_credentials(api, make_user):
    make_user("bob@example.com")

    response = api.post("/api/login", {"email": "bob@example.com", "password": "x" * 20})

    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"


def test_me_needs_a_session(api):
    response = api.get("/api/me")

    assert response.status_code == 401
    assert response.get_json()["code"] == "not_authenticated"


def test_logout_ends_the_session(api, make_user):
    make_user("carol@example.com")
    api.post("/api/login", {"email": "carol@example.com", "password": PASSWORD})
    api.refresh_token()

    api.post("/api/logout")

    assert api.get("/api/me").status_code == 401


def test_logged_out_resend_answers_the_same_for_every_address(api, make_user, outbox):
    make_user("waiting@example.com", confirmed=False)

    known = api.post("/api/resend", {"email": "waiting@example.com"})
    unknown = api.post("/api/resend", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert [m.to for m in outbox()] == ["waiting@example.com"]


def test_logged_in_resend_is_limited_with_retry_after(api, make_user):
    make_user("eager@example.com", confirmed=False)
    api.post("/api/login", {"email": "eager@example.com", "password": PASSWORD})
    api.refresh_token()

    first = api.post("/api/resend")
    second = api.post("/api/resend")

    assert first.status_code == 202
    assert second.status_code == 429
    assert second.get_json()["code"] == "rate_limited"
    assert 0 < int(second.headers["Retry-After"]) <= 180


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"email": "a@example.com", "password": ', "application/json", 400, "malformed_json"),
        ("email=a@example.com", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ('{"email": 5, "password": []}', "application/json", 422, "validation_error"),
        (
            '{"email": "a@example.com", "password": "p", "is_admin": true}',
            "application/json",
            422,
            "validation_error",
        ),
        ("[]", "application/json", 422, "validation_error"),
        (b'{"email": "\xff\xfe"}', "application/json", 400, "malformed_json"),
    ],
)
def test_bad_bodies_get_a_4xx_in_the_error_shape(client, api, body, content_type, status, code):
    response = client.post(
        "/api/register",
        data=body,
        headers={"Content-Type": content_type, "X-CSRFToken": api.token},
    )

    assert response.status_code == status
    assert response.get_json()["code"] == code
    assert set(response.get_json()) <= {"code", "message", "fields"}


def test_validation_errors_name_the_field(api):
    response = api.post("/api/register", {"email": "not an address", "password": PASSWORD})

    assert response.status_code == 422
    assert "email" in response.get_json()["fields"]


def test_weak_password_is_a_field_error(api):
    response = api.post("/api/register", {"email": "weak@example.com", "password": "password" * 2})

    assert response.status_code == 422
    assert "password" in response.get_json()["fields"]


def test_registering_without_a_password_is_told_to_choose_one(api, get_user):
    """The API has no form to require the password, so the flow's own message is what a
    single-page app shows next to the field: it must say what to do, as the form does."""
    response = api.post("/api/register", {"email": "nopass@example.com"})

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"password": ["Choose a password."]}
    assert get_user("nopass@example.com") is None


def test_oversized_body_is_413_in_the_error_shape(app, client, api):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(
        "/api/register",
        data=json.dumps({"email": "a@example.com", "password": "x" * 4000}),
        headers={"Content-Type": "application/json", "X-CSRFToken": api.token},
    )

    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    response = client.get("/api/register")

    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"


def test_html_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_openapi_document_is_valid_3_1_and_lists_every_endpoint(client):
    document = client.get("/api/openapi.json").get_json()

    validate(document)
    assert document["openapi"].startswith("3.1")
    paths = set(document["paths"])
    assert {
        "/api/register",
        "/api/login",
        "/api/logout",
        "/api/logout-everywhere",
        "/api/me",
        "/api/confirm",
        "/api/resend",
        "/api/csrf",
    } <= paths


def test_each_schema_is_generated_once_per_process_and_handed_out_as_a_copy(
    app, config, monkeypatch
):
    # Every app's start asks for the schemas of its endpoints; generating them again for each
    # app was most of an app's start-up, paid by every worker and every test.
    generated = []
    generate = pydantic.BaseModel.model_json_schema.__func__

    def counting(cls, *args, **kwargs):
        generated.append(cls)
        return generate(cls, *args, **kwargs)

    monkeypatch.setattr(pydantic.BaseModel, "model_json_schema", classmethod(counting))
    monkeypatch.setattr(schemas.BaseModel, "_schemas", {})

    first = create_app(config).test_client().get("/api/openapi.json").get_json()
    ours_at_first = {c for c in generated if issubclass(c, schemas.BaseModel)}
    generated.clear()
    second = create_app(config).test_client().get("/api/openapi.json").get_json()
    ours_at_second = {c for c in generated if issubclass(c, schemas.BaseModel)}
    handed_out = schemas.Error.model_json_schema()
    handed_out["properties"].clear()

    assert schemas.Error in ours_at_first
    assert ours_at_second == set()
    assert second == first
    assert schemas.Error.model_json_schema()["properties"], "the cache handed out its own dict"


def test_docs_api_reference_is_current(app):
    result = app.test_cli_runner().invoke(args=["mailproof", "api-reference"])

    assert result.exit_code == 0, result.output
    assert Path("docs/api.md").read_text() == result.output, (
        "docs/api.md is stale: run `flask --app demo mailproof api-reference > docs/api.md`"
    )


def test_contact_message_is_held_then_released_through_the_api(api, outbox):
    sent = api.post(
        "/api/contact", {"name": "Dana", "email": "dana@example.com", "message": "Hello there"}
    )
    token = outbox("dana@example.com")[0].link("/contact/verify/").rsplit("/", 1)[1]

    released = api.post("/api/contact/verify", {"token": token})
    again = api.post("/api/contact/verify", {"token": token})

    assert sent.status_code == 202
    assert sent.get_json()["held"] is True
    assert released.status_code == 200
    assert again.status_code == 409
    assert again.get_json()["code"] == "token_used"
    assert [m.kind for m in outbox()] == ["contact_verify", "contact_delivery"]


def test_contact_field_errors_name_the_field(api):
    response = api.post(
        "/api/contact", {"name": "Dana", "email": "dana@example.com", "message": "x\x00y"}
    )

    assert response.status_code == 422
    assert "message" in response.get_json()["fields"]
