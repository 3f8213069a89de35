"""Bad input: a 4xx page or an error next to the field, input kept (never a password), no 500."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from helpers import PASSWORD, csrf_token, register, submit


def _errors(html):
    """Return ``{field id: [messages]}`` of the errors shown next to fields."""
    found = re.findall(r'<ul class="errors" id="([\w-]+)-error">(.*?)</ul>', html, re.S)
    return {field: re.findall(r"<li>(.*?)</li>", items) for field, items in found}


def _multipart(fields):
    """Encode ``fields`` (bytes values) as multipart/form-data by hand, bytes kept as they are."""
    boundary = b"mailproofboundary"
    body = b"".join(
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (boundary, name.encode(), value)
        for name, value in fields.items()
    )
    return body + b"--%s--\r\n" % boundary, f"multipart/form-data; boundary={boundary.decode()}"


def test_body_over_max_content_length_gets_the_413_page(client):
    response = client.post("/register", data={"email": "a@example.com", "junk": "x" * 3_000_000})

    assert response.status_code == 413
    assert "Too much data" in response.text


def test_a_one_megabyte_password_is_a_form_error_not_a_413(client):
    response = register(client, password="p" * 1_000_000)

    assert response.status_code == 422
    assert _errors(response.text)["password"] == ["Use at most 4096 bytes."]
    assert "p" * 100 not in response.text


@pytest.mark.parametrize(
    "data",
    [{}, {"email": "", "password": "", "password_confirm": ""}],
    ids=["missing", "empty"],
)
def test_missing_or_empty_fields_are_named_next_to_each_field(client, data):
    response = submit(client, "/register", data)

    assert response.status_code == 422
    errors = _errors(response.text)
    assert errors["email"] == ["Enter your email address."]
    assert errors["password"] == ["Choose a password."]
    assert errors["password_confirm"] == ["Repeat the password."]


def test_blank_address_is_refused(client):
    response = register(client, "   ")

    assert response.status_code == 422
    assert "email" in _errors(response.text)


def test_mismatched_passwords_keep_the_address_but_neither_password(client, get_user):
    response = register(client, "bob@example.com", confirm="a different long passphrase")

    assert response.status_code == 422
    assert _errors(response.text) == {"password_confirm": ["The two passwords differ."]}
    assert 'value="bob@example.com"' in response.text
    assert PASSWORD not in response.text
    assert "a different long passphrase" not in response.text
    assert get_user("bob@example.com") is None


def test_refused_password_keeps_the_address_but_not_the_password(client):
    response = register(client, "bob@example.com", password="qwertyuiopasdfgh")

    assert response.status_code == 422
    assert "password" in _errors(response.text)
    assert 'value="bob@example.com"' in response.text
    assert "qwertyuiopasdfgh" not in response.text


def test_invalid_address_is_shown_back_with_its_error(client):
    response = register(client, "bob@@example.com")

    assert response.status_code == 422
    assert "email" in _errors(response.text)
    assert 'value="bob@@example.com"' in response.text


def test_nul_byte_in_the_address_is_an_error_next_to_it(client, get_user):
    response = register(client, "bob\x00@example.com")

    assert response.status_code == 422
    assert _errors(response.text)["email"] == [
        "The address contains characters an address cannot have."
    ]


def test_nul_byte_in_a_password_is_kept_not_a_place_to_cut(client, login):
    password = "first part\x00 and the rest of it"
    register(client, password=password)

    cut = submit(client, "/login", {"email": "alice@example.com", "password": "first part"})

    assert cut.status_code == 422
    login("alice@example.com", password=password)


def test_nul_byte_in_the_login_address_is_a_form_error(client):
    response = submit(client, "/login", {"email": "\x00", "password": PASSWORD})

    assert response.status_code == 422


def test_invalid_utf8_in_a_multipart_address_is_an_error_next_to_it(client, get_user):
    token = csrf_token(client.get("/register"))
    body, content_type = _multipart(
        {
            "csrf_token": token.encode(),
            "email": b"al\xffice@example.com",
            "password": PASSWORD.encode(),
            "password_confirm": PASSWORD.encode(),
        }
    )

    response = client.post("/register", data=body, content_type=content_type)

    assert response.status_code == 422
    assert "could not be read" in _errors(response.text)["email"][0]
    assert PASSWORD not in response.text


def test_invalid_utf8_in_a_multipart_password_is_an_error_next_to_it(client, get_user):
    token = csrf_token(client.get("/register"))
    password = PASSWORD.encode() + b"\xfe\xff"
    body, content_type = _multipart(
        {
            "csrf_token": token.encode(),
            "email": b"alice@example.com",
            "password": password,
            "password_confirm": password,
        }
    )

    response = client.post("/register", data=body, content_type=content_type)

    assert response.status_code == 422
    assert "could not be read" in _errors(response.text)["password"][0]
    assert 'value="alice@example.com"' in response.text
    assert get_user("alice@example.com") is None


def test_invalid_utf8_in_a_urlencoded_form_gets_a_clear_400_page(client, get_user):
    token = csrf_token(client.get("/register"))
    body = b"csrf_token=%s&email=al\xffice@example.com&password=x" % token.encode()

    response = client.post("/register", data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "not valid UTF-8" in response.text
    assert get_user("alice@example.com") is None


def test_invalid_utf8_in_a_token_gets_the_invalid_link_page(client):
    response = client.get("/confirm/abc%FF%FEdef")

    assert response.status_code == 404
    assert "This link does not work" in response.text


def test_a_form_posted_without_its_csrf_token_gets_a_400_page(client):
    response = client.post("/resend", data={"email": "alice@example.com"})

    assert response.status_code == 400
    assert "This form has expired" in response.text


def test_a_field_given_twice_takes_the_first_value(client, get_user):
    token = csrf_token(client.get("/register"))
    data = [
        ("csrf_token", token),
        ("email", "alice@example.com"),
        ("email", "bob@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ]

    response = client.post("/register", data=MultiDict(data))

    assert response.status_code == 302
    assert get_user("alice@example.com") is not None
    assert get_user("bob@example.com") is None


# Input handling, not rate limiting: hundreds of sign-ups from one client in one test.
@pytest.mark.app_config(RATELIMIT_ENABLED=False)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    email=st.text(max_size=300),
    password=st.text(max_size=40),
    confirm=st.text(max_size=40),
)
def test_any_text_in_any_field_gets_a_redirect_or_a_form_error(client, email, password, confirm):
    response = register(client, email, password=password, confirm=confirm)

    assert response.status_code in (302, 422)
