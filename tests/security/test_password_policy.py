"""The password policy against passwords that only look long, or are the address itself."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof.flows.password_reset import reset_token
from helpers import PASSWORD, register, submit

ADDRESS = "margarethe.vonholstein@example.org"
#: The address as a password, each of which zxcvbn alone scores 3 or 4.
ADDRESS_PASSWORDS = [
    "Margarethe.VonHolstein",
    "margarethe_von-holstein",
    "MargaretheVonHolsteinExampleOrg",
]
REASON = "Do not make your password out of your email address."


def test_one_character_that_grows_under_nfkc_is_refused(client, get_user):
    # U+FDFA is one character typed and 18 after NFKC.
    assert len(unicodedata.normalize("NFKC", "\ufdfa")) >= 15

    response = register(client, password="\ufdfa")

    assert response.status_code == 422
    assert "Use at least 15 characters." in response.text
    assert get_user("alice@example.com") is None


def test_fifteen_typed_characters_that_grow_under_nfkc_are_accepted(client, get_user):
    response = register(client, password="Tq8#vLp2@xZr9!\ufdfa")

    assert response.status_code == 302


@pytest.mark.parametrize("password", ADDRESS_PASSWORDS)
def test_registration_refuses_the_address_as_password(client, get_user, password):
    response = register(client, ADDRESS, password=password)

    assert response.status_code == 422
    assert REASON in response.text
    assert get_user(ADDRESS) is None


def test_the_address_with_its_tag_dropped_is_refused(client):
    response = register(client, "margarethe.vonholstein+shop@example.org", "MargaretheVonHolstein")

    assert REASON in response.text


def test_a_password_that_only_contains_the_local_part_is_accepted(client):
    response = register(client, ADDRESS, password="margarethe vonholstein rides west")

    assert response.status_code == 302


@pytest.mark.parametrize("password", ADDRESS_PASSWORDS)
def test_password_change_refuses_the_address_as_password(client, make_user, login, password):
    make_user(ADDRESS)
    login(ADDRESS)

    response = submit(
        client,
        "/change-password",
        {"current_password": PASSWORD, "password": password, "password_confirm": password},
    )

    assert response.status_code == 422
    assert REASON in response.text


@pytest.mark.parametrize("password", ADDRESS_PASSWORDS)
def test_reset_refuses_the_address_as_password(app, client, make_user, password):
    make_user(ADDRESS)
    with app.app_context():
        user = db.session.scalars(select(models.user)).one()
        client.get(f"/reset/{reset_token(user)}")

    response = submit(
        client, "/reset/set-password", {"password": password, "password_confirm": password}
    )

    assert response.status_code == 422
    assert REASON in response.text


def test_the_api_refuses_the_address_as_password_next_to_the_field(client):
    token = client.get("/api/csrf").get_json()["csrf_token"]

    response = client.post(
        "/api/register",
        json={"email": ADDRESS, "password": ADDRESS_PASSWORDS[0]},
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 422
    assert response.get_json()["fields"]["password"] == [REASON]
