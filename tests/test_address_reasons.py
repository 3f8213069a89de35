"""Why an address was refused, said in our words and the visitor's language."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from flask_mailproof.address_reasons import explain_refusal
from flask_mailproof.addresses import parse_address
from flask_mailproof.errors import InvalidAddress
from helpers import register


def _reason(value: str) -> str:
    with pytest.raises(InvalidAddress) as refused:
        parse_address(value)
    return refused.value.reason


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ada.example.com", "An address needs an @ sign, as in name@example.com."),
        ("@example.com", "Something must come before the @."),
        ("ada@", "A domain must come after the @, as in name@example.com."),
        ("ada@example", "The part after the @ needs a dot, as in example.com."),
        ("ada..lovelace@example.com", "An address cannot have two dots in a row."),
        (
            ".ada@example.com",
            "A dot cannot stand at the start or the end of an address, nor next to the @.",
        ),
        (
            "ada.@example.com",
            "A dot cannot stand at the start or the end of an address, nor next to the @.",
        ),
        (
            "ada@-example.com",
            "A hyphen cannot stand next to a dot, nor at the start or the end of the domain.",
        ),
        ("ada lovelace@example.com", "The address contains characters an address cannot have."),
        ("ada@exa mple.com", "The address contains characters an address cannot have."),
        (
            "ada@example.invalid",
            "The part after the @ is a reserved name that cannot receive mail.",
        ),
        ("ada@[127.0.0.1]", "Type a domain after the @, not an IP address."),
        (
            "Ada <ada@example.com>",
            "Type the address alone, without a name or anything around it.",
        ),
    ],
)
def test_common_refusals_are_said_in_our_words(app, typed, reason) -> None:
    with app.test_request_context():
        assert _reason(typed) == reason


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ada.example.com", "Eine Adresse braucht ein @-Zeichen, wie in name@example.com."),
        ("ada@example", "Der Teil nach dem @ braucht einen Punkt, wie in example.com."),
        ("ada..lovelace@example.com", "Eine Adresse kann nicht zwei Punkte hintereinander haben."),
    ],
)
def test_refusals_are_german_on_german_pages(app, typed, reason) -> None:
    with app.test_request_context(), force_locale("de"):
        assert _reason(typed) == reason


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        (
            "The domain name nowhere.example does not exist.",
            "The domain nowhere.example does not exist: check its spelling.",
        ),
        (
            "The domain name null.example does not accept email.",
            "The domain null.example does not accept mail.",
        ),
    ],
)
def test_deliverability_refusals_name_the_domain(app, detail, reason) -> None:
    with app.test_request_context():
        assert explain_refusal(detail) == reason


def test_an_unknown_refusal_keeps_its_detail_behind_a_translated_lead(app) -> None:
    with app.test_request_context(), force_locale("de"):
        reason = explain_refusal("Something new went wrong.")

    assert reason == "Dies ist keine gültige E-Mail-Adresse (Something new went wrong.)"


def test_register_shows_the_german_reason_next_to_the_field(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    response = register(client, "ada@example")

    assert "Der Teil nach dem @ braucht einen Punkt, wie in example.com." in response.text
