"""Hostile input on every form: sizes, encodings, odd addresses, markup, look-alikes."""

from __future__ import annotations

import re
import time
import unicodedata

import pytest

from flask_mailproof.passwords import Passwords
from helpers import FORM_OWNER, PASSWORD, csrf_token, open_form, raw_post, submit

NEW = "an entirely different passphrase"

FORMS = {
    "/register": {"email": "a@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    "/login": {"email": "a@example.com", "password": PASSWORD},
    "/resend": {"email": "a@example.com"},
    "/reset": {"email": "a@example.com"},
    "/contact": {"name": "Dana", "email": "a@example.com", "message": "Hello"},
    "/change-email": {"email": "a@example.com", "current_password": PASSWORD},
    "/reset/set-password": {"password": PASSWORD, "password_confirm": PASSWORD},
    "/change-password": {"current_password": PASSWORD, "password": NEW, "password_confirm": NEW},
}
EMAIL_FORMS = [url for url, fields in FORMS.items() if "email" in fields]
PASSWORD_FORMS = [url for url, fields in FORMS.items() if "password" in fields]


@pytest.fixture
def ready(app, client, make_user, url):
    """The form at ``url`` open in ``client``, for an account other than a@example.com."""
    make_user(FORM_OWNER)
    open_form(app, client, url)


def nothing_written(get_user, outbox, email="a@example.com"):
    return get_user(email) is None and outbox() == []


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("url", FORMS)
def test_a_body_over_the_limit_gets_413(client, url):
    token = csrf_token(client.get(url))

    response = client.post(url, data={"csrf_token": token, "email": "x" * (3 * 1024 * 1024)})

    assert response.status_code == 413


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("url", FORMS)
def test_ten_thousand_fields_get_413(client, url):
    fields = {f"f{n}": b"x" for n in range(10_000)}

    assert raw_post(client, url, fields).status_code == 413


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("url", FORMS)
def test_ten_thousand_fields_without_a_token_get_400(client, url):
    body = "&".join(f"f{n}=x" for n in range(10_000))

    response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400


@pytest.fixture
def hash_calls(monkeypatch):
    calls = []
    for name in ("hash", "verify"):
        original = getattr(Passwords, name)

        def spy(self, *args, _original=original, _name=name):
            calls.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(Passwords, name, spy)
    return calls


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("url", PASSWORD_FORMS)
def test_a_megabyte_password_is_a_form_error_before_any_hashing(client, url, hash_calls):
    data = {**FORMS[url], "password": "p" * 1_000_000, "password_confirm": "x"}
    token = csrf_token(client.get(url))

    start = time.perf_counter()
    response = client.post(url, data={**data, "csrf_token": token})
    elapsed = time.perf_counter() - start

    assert response.status_code == 422
    assert "at most 4096 bytes" in response.get_data(as_text=True)
    assert hash_calls == []
    assert elapsed < 0.5


BAD_ADDRESS_BYTES = {
    "nul": b"a\x00b@example.com",
    "invalid utf-8": b"a\xff\xfeb@example.com",
    "lone surrogate (CESU)": b"a\xed\xa0\x80b@example.com",
    "right-to-left override": "a\u202eb@example.com".encode(),
    "zero-width space": "a\u200bb@example.com".encode(),
    "zero-width joiner": "a\u200db@example.com".encode(),
    "byte-order mark": "\ufeffa@example.com".encode(),
    "line separator": "a\u2028b@example.com".encode(),
}


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("url", EMAIL_FORMS)
@pytest.mark.parametrize("value", BAD_ADDRESS_BYTES.values(), ids=BAD_ADDRESS_BYTES)
def test_control_and_invisible_characters_in_the_address_are_refused(
    client, get_user, outbox, url, value
):
    fields = {k: v.encode() for k, v in FORMS[url].items()}
    logged_in = client.get("/profile").status_code

    response = raw_post(client, url, {**fields, "email": value})

    assert 400 <= response.status_code < 500
    assert outbox() == []
    assert client.get("/profile").status_code == logged_in  # nobody logged in, nor out
    assert get_user(FORM_OWNER).email == FORM_OWNER


def register(client, email, password=PASSWORD, confirm=None):
    return submit(
        client,
        "/register",
        {"email": email, "password": password, "password_confirm": confirm or password},
    )


# NUL, accents, CJK and a symbol; its NFD form is the same password to NFKC.
ODD_PASSWORD = "Grüße\x00 aus Köln, 東京 und ☃ zurück"


def test_a_password_with_nul_and_non_ascii_characters_works_exactly(client, make_user, login):
    make_user("a@example.com", password=ODD_PASSWORD)

    assert login("a@example.com", unicodedata.normalize("NFD", ODD_PASSWORD))


@pytest.mark.parametrize(
    "near_miss",
    [ODD_PASSWORD.split("\x00")[0], ODD_PASSWORD.replace("\x00", ""), ODD_PASSWORD.upper()],
    ids=["cut at NUL", "NUL dropped", "upper case"],
)
def test_a_password_with_nul_is_not_matched_by_near_misses(client, make_user, near_miss):
    make_user("a@example.com", password=ODD_PASSWORD)

    response = submit(client, "/login", {"email": "a@example.com", "password": near_miss})

    assert response.status_code == 422


def test_a_password_with_nul_registers_through_the_form(client, get_user):
    assert register(client, "a@example.com", ODD_PASSWORD).status_code == 302
    assert get_user("a@example.com") is not None


REFUSED_ADDRESSES = {
    "65-character local part": "a" * 65 + "@example.com",
    "255 characters": "a" * 60 + "@" + ".".join(["b" * 60] * 3) + ".example.com",
    "quoted local part": '"john doe"@example.com',
    "quoted with @": '"a@b"@example.com',
    "no dot in domain": "a@b",
    "domain literal": "a@[127.0.0.1]",
    "two addresses, comma": "a@b.c,evil@x.example",
    "two addresses, comma space": "a@example.com, evil@x.example",
    "two addresses, semicolon": "a@example.com;evil@x.example",
    "display name": "Alice <a@example.com>",
    "CRLF header": "a@example.com\r\nBcc: evil@x.example",
    "LF header": "a@example.com\nBcc: evil@x.example",
    "CR inside": "a\r@example.com",
    "encoded word": "=?utf-8?q?=0D=0ABcc=3A_evil=40x?=@example.com",
    "65-byte non-ASCII local part": "\u00e9" * 33 + "@example.com",
    "full-width local part": "\uff4d\uff49\uff4b\uff45@example.com",
}


@pytest.mark.parametrize("address", REFUSED_ADDRESSES.values(), ids=REFUSED_ADDRESSES)
def test_odd_addresses_are_refused_before_anything_is_written(client, outbox, address):
    response = register(client, address)

    assert response.status_code == 422
    assert outbox() == []


ACCEPTED_ADDRESSES = {
    "64-character local part": ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    "upper-case domain": ("Bob@EXAMPLE.COM", "Bob@example.com"),
    "spaces around": ("  bob@example.com  ", "bob@example.com"),
    "international domain": ("bob@b\u00fccher.de", "bob@xn--bcher-kva.de"),
    "plus and dots": ("bob.smith+tag@example.com", "bob.smith+tag@example.com"),
    "non-ASCII local part": ("Jos\u00e9@B\u00fccher.de", "Jos\u00e9@xn--bcher-kva.de"),
    "dotless i": ("m\u0131ke@example.com", "m\u0131ke@example.com"),
}


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED_ADDRESSES.values(), ids=ACCEPTED_ADDRESSES)
def test_accepted_addresses_are_normalised_and_get_one_mail(
    client, outbox, get_user, typed, stored
):
    register(client, typed)

    [mail] = outbox()
    assert mail.to == stored
    assert get_user(stored).email == stored
    assert mail.headers.get_all("To") == [stored]
    assert mail.headers.get_all("Cc") is None
    assert mail.headers.get_all("Bcc") is None


# Markup and template syntax are data: stored as typed, escaped, never evaluated.
MARKUP_ADDRESS = "{{7*7}}${7*7}#{7*7}a&b'c@example.com"


def without_random_values(text):
    """Drop links, attribute values and clock times: a token, a nonce or "at 18:49 UTC" may hold
    "49" by chance."""
    return re.sub(r'https?://[^\s"<]+|="[^"]*"|\b\d{1,2}:\d{2}\b', "", text)


def test_template_syntax_in_an_address_is_stored_literally(client, get_user):
    register(client, MARKUP_ADDRESS)

    assert get_user(MARKUP_ADDRESS).email == MARKUP_ADDRESS


def test_template_syntax_in_an_address_is_escaped_in_pages(client, login):
    register(client, MARKUP_ADDRESS)
    login(MARKUP_ADDRESS)

    page = client.get("/unconfirmed").get_data(as_text=True)

    assert "{{7*7}}${7*7}#{7*7}a&amp;b&#39;c@example.com" in page
    assert "49" not in without_random_values(page)
    assert "a&b'c" not in page


def test_template_syntax_in_an_address_is_literal_in_mail(client, outbox):
    register(client, MARKUP_ADDRESS)

    [mail] = outbox()
    assert MARKUP_ADDRESS in mail.text
    assert "{{7*7}}${7*7}#{7*7}a&amp;b&#39;c@example.com" in mail.html
    assert "49" not in without_random_values(mail.text + mail.html)
    assert mail.text.index(MARKUP_ADDRESS) < mail.text.index("https://")


@pytest.mark.usefixtures("ready")
@pytest.mark.parametrize("url", EMAIL_FORMS)
def test_markup_in_a_field_is_escaped_when_the_form_is_shown_again(client, url):
    data = {**FORMS[url], "email": '"><script>alert(1)</script><a href="x">'}

    page = submit(client, url, data).get_data(as_text=True)

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    assert '<a href="x">' not in page


# Look-alikes: an address that folds to an existing one never gets that account's mail.


@pytest.fixture
def mike(make_user):
    return make_user("mike@example.com", confirmed=False)


@pytest.mark.usefixtures("mike")
@pytest.mark.parametrize(
    "variant",
    ["MIKE@example.com", "Mike@Example.Com", " mike@EXAMPLE.com ", "mi\u212ae@example.com"],
    ids=["upper", "title", "spaces", "kelvin sign"],
)
def test_a_case_variant_mails_only_the_account_owner(client, outbox, variant):
    # The Kelvin sign is canonically a K: NFC makes it one before anything else looks.
    register(client, variant)
    submit(client, "/resend", {"email": variant})

    assert outbox()
    assert {mail.to for mail in outbox()} == {"mike@example.com"}


@pytest.mark.usefixtures("mike")
@pytest.mark.parametrize(
    "look_alike",
    ["\uff4d\uff49\uff4b\uff45@example.com", "\u24dc\u24d8\u24da\u24d4@example.com"],
    ids=["full width", "circled"],
)
def test_a_compatibility_look_alike_gets_no_mail_at_all(client, outbox, get_user, look_alike):
    register(client, look_alike)
    submit(client, "/resend", {"email": look_alike})

    assert outbox() == []
    assert get_user("mike@example.com").confirm_counter == 0


@pytest.mark.usefixtures("mike")
@pytest.mark.parametrize(
    "look_alike",
    ["m\u0131ke@example.com", "m\u0456ke@example.com"],
    ids=["dotless i", "cyrillic i"],
)
def test_a_unicode_look_alike_is_its_own_account_and_gets_only_its_own_mail(
    client, outbox, get_user, look_alike
):
    # Another mailbox (CVE-2019-19844): it may have an account, and only its mail.
    register(client, look_alike)
    submit(client, "/resend", {"email": look_alike})
    submit(client, "/reset", {"email": look_alike})

    assert outbox()
    assert {mail.to for mail in outbox()} == {look_alike}
    assert get_user(look_alike).id != get_user("mike@example.com").id
    assert get_user("mike@example.com").confirm_counter == 0


#: Names that read as someone else: a right-to-left override, zero-width space, isolates, BOM.
FORMATTED_NAMES = ["Ada \u202eecalevoL", "Ad\u200ba", "\u2066Ada\u2069", "Ada\ufeff", "Ada\u00ad"]


@pytest.mark.parametrize("name", FORMATTED_NAMES)
def test_format_characters_in_a_contact_name_are_refused(client, outbox, name):
    response = submit(
        client, "/contact", {"name": name, "email": "dana@example.com", "message": "Hello"}
    )

    assert response.status_code == 422
    assert "invisible formatting characters" in response.text
    assert outbox() == []


def test_format_characters_in_a_contact_name_are_a_field_error_in_the_api(client, outbox):
    token = client.get("/api/csrf").get_json()["csrf_token"]

    response = client.post(
        "/api/contact",
        json={"name": FORMATTED_NAMES[0], "email": "dana@example.com", "message": "Hello"},
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["name"]
    assert outbox() == []


def test_a_message_keeps_its_emoji_joiners(client, outbox):
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"

    response = submit(
        client, "/contact", {"name": "Dana", "email": "dana@example.com", "message": family}
    )

    assert response.status_code == 302
    assert [m.kind for m in outbox()] == ["contact_verify"]
