"""Every field's error shows at once: the flows' checks of an address and of a new password
run with the form's own, so nobody fixes one field only to be told about the next."""

from __future__ import annotations

import re

from helpers import register, submit


def _errors(page: str) -> dict[str, list[str]]:
    """Return each field's errors, by field id, as the page lists them."""
    found = {}
    for field, items in re.findall(
        r'<ul class="errors" id="([\w-]+)-error">(.*?)</ul>', page, re.S
    ):
        found[field] = re.findall(r"<li>(.*?)</li>", items)
    return found


def test_register_shows_a_bad_address_and_differing_passwords_together(client):
    response = register(client, "not-an-address@", confirm="something else entirely")

    errors = _errors(response.text)
    assert response.status_code == 422
    assert errors["email"] == ["A domain must come after the @, as in name@example.com."]
    assert errors["password_confirm"] == ["The two passwords differ."]


def test_register_shows_a_bad_address_and_a_short_password_together(client, outbox):
    response = register(client, "ada@@example.com", password="short")

    errors = _errors(response.text)
    assert set(errors) == {"email", "password"}
    assert errors["password"] == ["Use at least 15 characters."]
    assert outbox() == []


def test_register_refuses_a_password_made_of_the_address_next_to_the_field(client):
    response = register(client, "ada.lovelace@example.com", password="ada.lovelace@example.com")

    assert _errors(response.text) == {
        "password": ["Do not make your password out of your email address."]
    }


def test_each_field_shows_one_error_at_a_time_per_field(client):
    response = register(client, "x" * 300 + "@example.com")

    assert _errors(response.text)["email"] == ["An address has at most 254 characters."]


def test_contact_shows_a_bad_address_and_an_empty_message_together(client, outbox):
    response = submit(client, "/contact", {"name": "Ada", "email": "ada@", "message": ""})

    errors = _errors(response.text)
    assert set(errors) == {"email", "message"}
    assert outbox() == []


def test_change_password_checks_the_current_password_before_the_policy(client, make_user, login):
    make_user("ada@example.com")
    login("ada@example.com")

    response = submit(
        client,
        "/change-password",
        {"current_password": "not it at all", "password": "short", "password_confirm": "short"},
    )

    # A wrong guess is judged (and counted) first, whatever new password came with it.
    assert _errors(response.text) == {"current_password": ["This is not your current password."]}


def test_only_the_first_field_with_an_error_takes_the_focus(client):
    response = register(client, "ada@", confirm="something else entirely")

    assert response.text.count("autofocus") == 1
    assert re.search(r'<input [^>]*autofocus[^>]*id="email"', response.text)
