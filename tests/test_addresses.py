"""Addresses: email-validator's normalisation, one address of at most 254 characters,
uniqueness up to case and Unicode case folding."""

from __future__ import annotations

import email_validator
import pytest
from email_validator import deliverability
from sqlalchemy.exc import IntegrityError

from demo.models import db, models
from flask_mailproof.addresses import address_key, parse_address
from flask_mailproof.errors import InvalidAddress
from helpers import register


def _address_of_length(length):
    """A valid address exactly ``length`` characters long (64-character local part)."""
    local = "a" * 64
    remaining = length - len(local) - 1 - len(".com")
    labels = []
    while remaining > 0:
        size = min(63, remaining)
        if remaining - size == 1:  # a lone character would need its own dot
            size -= 2
        labels.append("b" * size)
        remaining -= size + 1
    address = f"{local}@{'.'.join(labels)}.com"
    assert len(address) == length, len(address)
    return address


def test_domain_is_lower_cased_and_local_part_kept():
    assert parse_address("Alice.Smith@EXAMPLE.Com").email == "Alice.Smith@example.com"


def test_surrounding_whitespace_is_dropped():
    assert parse_address("  alice@example.com \t").email == "alice@example.com"


def test_internationalised_domain_is_normalised():
    # One spelling per domain, the one every mail server carries: only a local part can
    # need SMTPUTF8.
    assert parse_address("user@BÜCHER.example").email == "user@xn--bcher-kva.example"


def test_a_domain_and_its_idna_spelling_are_one_address():
    assert parse_address("user@bücher.example") == parse_address("user@XN--BCHER-KVA.example")


def test_non_ascii_local_part_is_kept_as_typed():
    assert parse_address("José@BÜCHER.example").email == "José@xn--bcher-kva.example"


def test_local_part_is_stored_in_nfc():
    assert parse_address("jose\u0301@example.com").email == "jos\u00e9@example.com"


def test_key_of_a_parsed_address_is_the_key_of_its_stored_form():
    address = parse_address("STRASSE@BÜCHER.example")

    assert address.key == address_key(address.email) == parse_address("straße@bücher.example").key


def test_local_part_of_64_octets_is_accepted():
    assert parse_address("\u00e9" * 32 + "@example.com").email == "\u00e9" * 32 + "@example.com"


def test_local_part_of_65_ascii_characters_is_refused_by_its_octets():
    with pytest.raises(InvalidAddress) as refused:
        parse_address("a" * 65 + "@example.com")

    assert refused.value.reason == "The part before the @ has at most 64 bytes."


def test_local_part_of_65_octets_is_refused():
    # 33 characters, 66 octets in UTF-8: RFC 5321 counts octets.
    with pytest.raises(InvalidAddress, match="64 bytes"):
        parse_address("\u00e9" * 33 + "@example.com")


@pytest.mark.parametrize(
    "value",
    ["\uff4d\uff49\uff4b\uff45@example.com", "\ufb01le@example.com", "bob\u00b2@example.com"],
    ids=["full width", "ligature", "superscript"],
)
def test_compatibility_spellings_are_refused(value):
    # The key folds them onto plain letters: stored, they would squat another account.
    with pytest.raises(InvalidAddress) as refused:
        parse_address(value)

    assert refused.value.reason == "Type the address in ordinary letters."


def test_address_of_254_characters_is_accepted():
    address = _address_of_length(254)

    assert parse_address(address).email == address


def test_address_of_255_characters_is_refused():
    with pytest.raises(InvalidAddress) as refused:
        parse_address(_address_of_length(255))

    assert refused.value.reason == "An address has at most 254 characters."


@pytest.mark.parametrize(
    "value",
    [
        "alice@example.com, bob@example.com",
        "alice@example.com bob@example.com",
        "alice@example.com;bob@example.com",
        "Alice <alice@example.com>",
        '"alice bob"@example.com',
        "alice@[192.0.2.1]",
        "alice@example.com\nbcc: bob@example.com",
        "alice@localhost",
        "alice",
        "@example.com",
    ],
)
def test_anything_but_one_plain_address_is_refused(value):
    with pytest.raises(InvalidAddress):
        parse_address(value)


def test_a_replacement_character_is_refused_as_unreadable():
    # What a form parser makes of bytes that are not UTF-8; email-validator would take it.
    with pytest.raises(InvalidAddress) as refused:
        parse_address("al\ufffdice@example.com")

    assert refused.value.reason == "Part of the address could not be read; type it again."


def test_a_percent_sign_is_refused_as_a_relay_route():
    # email-validator accepts "%"; relays may route on it ("the percent hack").
    with pytest.raises(InvalidAddress) as refused:
        parse_address("alice%evil.example@example.com")

    assert refused.value.reason == "The address contains characters an address cannot have."


UNSAFE_CHARACTERS = "The address contains characters an address cannot have."


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "Enter your email address."),
        ("  \t ", "Enter your email address."),
        ("alice\x00@example.com", UNSAFE_CHARACTERS),
        ("alice\u202e@example.com", UNSAFE_CHARACTERS),
        ("al\u200bice@example.com", UNSAFE_CHARACTERS),
        ("alice\u2028@example.com", UNSAFE_CHARACTERS),
        ("=?utf-8?q?admin?=@example.com", UNSAFE_CHARACTERS),
    ],
    ids=[
        "empty",
        "blank",
        "control",
        "bidi override",
        "zero width",
        "line separator",
        "encoded word",
    ],
)
def test_every_refusal_says_what_is_wrong_in_words(value, reason):
    # The reason is shown next to the field: the person must learn what to change. Control and
    # invisible characters would hide a different address behind the one seen; an RFC 2047
    # encoded word ("=?...?=") may be decoded by mail software into a header line break.
    with pytest.raises(InvalidAddress) as refused:
        parse_address(value)

    assert refused.value.reason == reason


@pytest.mark.parametrize("value", ["bob=?x@example.com", "bob?=x@example.com"])
def test_half_of_an_encoded_word_is_an_ordinary_address(value):
    assert parse_address(value).email == value


@pytest.fixture
def permissive_email_validator(monkeypatch):
    """email-validator's module-wide defaults set as loosely as they go.

    They are documented settings, and the host application (or another library in the same
    process) may change them for its own forms: our policy must not move with them."""
    monkeypatch.setattr(email_validator, "ALLOW_QUOTED_LOCAL", True)
    monkeypatch.setattr(email_validator, "ALLOW_DOMAIN_LITERAL", True)
    monkeypatch.setattr(email_validator, "ALLOW_DISPLAY_NAME", True)
    monkeypatch.setattr(email_validator, "ALLOW_SMTPUTF8", False)


@pytest.mark.parametrize(
    "value",
    ['"alice bob"@example.com', "alice@[192.0.2.1]", "Alice <alice@example.com>"],
    ids=["quoted local part", "domain literal", "display name"],
)
@pytest.mark.usefixtures("permissive_email_validator")
def test_email_validator_defaults_set_elsewhere_do_not_loosen_what_is_refused(value):
    # We send to one plain address: a quoted local part, a domain literal or a display name
    # would slip past the checks on what the address holds and on where mail goes.
    with pytest.raises(InvalidAddress):
        parse_address(value)


@pytest.mark.usefixtures("permissive_email_validator")
def test_email_validator_defaults_set_elsewhere_do_not_refuse_a_non_ascii_local_part():
    # People whose mailbox is spelt in their own script must still be able to sign up.
    assert parse_address("José@example.com").email == "José@example.com"


def test_no_dns_lookup_by_default(monkeypatch):
    def no_dns(*args, **kwargs):
        raise AssertionError("DNS was queried")

    monkeypatch.setattr(deliverability, "validate_email_deliverability", no_dns)

    assert parse_address("alice@example.com").email == "alice@example.com"


def test_key_ignores_case():
    assert address_key("Alice@Example.com") == address_key("ALICE@example.COM")


def test_key_applies_unicode_case_folding():
    assert address_key("straße@example.com") == address_key("STRASSE@example.com")
    assert address_key("ΣΊΣΥΦΟΣ@example.com") == address_key("σίσυφος@example.com")


def test_key_applies_compatibility_normalisation():
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "bob")
    assert address_key(f"{fullwidth}@example.com") == address_key("bob@example.com")


def test_form_refuses_an_address_longer_than_254_characters(client, get_user):
    address = _address_of_length(255)

    response = register(client, address)

    assert response.status_code == 422
    assert "at most 254 characters" in response.text


def test_form_refuses_two_addresses_next_to_the_field(client):
    response = register(client, "alice@example.com, bob@example.com")

    assert response.status_code == 422
    assert 'id="email-error"' in response.text


@pytest.mark.parametrize("other", ["ALICE@example.com", "alice@EXAMPLE.COM", "Alice@Example.Com"])
def test_registering_a_case_variant_creates_no_second_account(app, client, other, outbox):
    register(app.test_client(), "alice@example.com")

    register(client, other)

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(models.user)) == 1


def test_registering_a_unicode_case_variant_creates_no_second_account(app, make_user, outbox):
    make_user("straße@example.com")

    register(app.test_client(), "STRASSE@example.com")

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(models.user)) == 1
    [mail] = outbox()
    assert mail.kind == "account_exists"
    assert mail.to == "straße@example.com"


def test_the_database_refuses_two_accounts_with_one_key(app, make_user):
    make_user("alice@example.com")

    with app.app_context():
        db.session.add(
            models.user(
                email="ALICE@example.com",
                email_key="alice@example.com",
                password_hash="x",
                session_stamp="0" * 32,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
