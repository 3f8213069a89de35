"""Tokens: a salt per purpose, key rotation, junk and stale tokens, expiry."""

from __future__ import annotations

import hashlib
import hmac
import itertools

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete

from demo import create_app
from demo.models import db, models
from flask_mailproof.claims import ResetClaim
from flask_mailproof.errors import TokenExpired, TokenInvalid
from flask_mailproof.links import MAILED_LINKS
from flask_mailproof.tokens import MAX_TOKEN_LENGTH, Purpose, Tokens, digest
from helpers import csrf_token, register, submit

OLD_KEY = "old-secret-key-0123456789-0123456789-0123456789"
NEW_KEY = "new-secret-key-0123456789-0123456789-0123456789"


@pytest.mark.parametrize(("made_for", "read_as"), list(itertools.permutations(list(Purpose), 2)))
def test_token_made_for_one_purpose_is_refused_by_every_other(made_for, read_as):
    tokens = Tokens(NEW_KEY)
    token = tokens.issue(made_for, {"u": 1})

    with pytest.raises(TokenInvalid):
        tokens.read(read_as, token, max_age=60)


def test_token_is_read_back_for_its_own_purpose():
    tokens = Tokens(NEW_KEY)

    assert tokens.read(Purpose.RESET, tokens.issue(Purpose.RESET, {"u": 1}), 60) == {"u": 1}


def test_token_signed_with_a_fallback_key_is_accepted():
    token = Tokens(OLD_KEY).issue(Purpose.CONFIRM, {"u": 1})

    assert Tokens(NEW_KEY, [OLD_KEY]).read(Purpose.CONFIRM, token, 60) == {"u": 1}


def test_a_key_given_as_bytes_signs_as_its_text_does():
    """Flask's SECRET_KEY may be bytes (``os.urandom(32)``, as Flask's docs suggest) or text;
    either works, and one key spelt either way signs the same tokens."""
    as_bytes = NEW_KEY.encode("utf-8")
    token = Tokens(as_bytes).issue(Purpose.CONFIRM, {"u": 1})

    assert Tokens(NEW_KEY).read(Purpose.CONFIRM, token, 60) == {"u": 1}
    assert Tokens(OLD_KEY, [as_bytes]).read(Purpose.CONFIRM, token, 60) == {"u": 1}


def test_token_signed_with_a_removed_key_is_refused():
    token = Tokens(OLD_KEY).issue(Purpose.CONFIRM, {"u": 1})

    with pytest.raises(TokenInvalid):
        Tokens(NEW_KEY).read(Purpose.CONFIRM, token, 60)


def test_new_tokens_are_signed_with_the_current_key_not_a_fallback():
    token = Tokens(NEW_KEY, [OLD_KEY]).issue(Purpose.CONFIRM, {"u": 1})

    assert Tokens(NEW_KEY).read(Purpose.CONFIRM, token, 60) == {"u": 1}
    with pytest.raises(TokenInvalid):
        Tokens(OLD_KEY).read(Purpose.CONFIRM, token, 60)


def test_tokens_past_max_age_raise_expired_with_their_payload(time_machine):
    time_machine.move_to("2026-01-05 12:00:00", tick=False)
    tokens = Tokens(NEW_KEY)
    token = tokens.issue(Purpose.CONFIRM, {"u": 7})

    time_machine.shift(61)
    with pytest.raises(TokenExpired) as expired:
        tokens.read(Purpose.CONFIRM, token, max_age=60)
    assert expired.value.payload == {"u": 7}


def test_an_expired_token_that_holds_no_mapping_carries_no_payload(time_machine):
    # issue() takes any JSON value; only a mapping can name an account to send a fresh link to.
    time_machine.move_to("2026-01-05 12:00:00", tick=False)
    tokens = Tokens(NEW_KEY)
    token = tokens.issue(Purpose.CONFIRM, ["u", 7])  # type: ignore[arg-type]

    time_machine.shift(61)
    with pytest.raises(TokenExpired) as expired:
        tokens.read(Purpose.CONFIRM, token, max_age=60)
    assert expired.value.payload is None


# Every link in flight carries the salt and the state digest: changed at an upgrade, they
# would void every link mailed before it.


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_token_signed_as_earlier_releases_sign_it_is_read(purpose):
    earlier = URLSafeTimedSerializer(NEW_KEY, salt=f"flask-mailproof.{purpose}").dumps({"u": 7})

    assert Tokens(NEW_KEY, lifetimes={purpose: 60}).read(purpose, earlier) == {"u": 7}


def test_the_state_digest_is_computed_as_earlier_releases_computed_it():
    joined = b"alice@example.com\x1f3\x1f$argon2id$v=19$m=1024"
    earlier = hashlib.sha256(joined).hexdigest()[:16]

    assert digest("alice@example.com", 3, "$argon2id$v=19$m=1024") == earlier


@pytest.mark.parametrize(
    ("token", "decoded"),
    [
        ("", False),
        ("a" * (MAX_TOKEN_LENGTH + 1), False),
        ("é" * 20, False),
        ("a" * MAX_TOKEN_LENGTH, True),  # the longest we try
    ],
    ids=["empty", "overlong", "not ascii", "at the limit"],
)
def test_junk_tokens_are_refused_before_any_decoding(monkeypatch, token, decoded):
    tried = []
    monkeypatch.setattr(URLSafeTimedSerializer, "loads", lambda *args, **kw: tried.append(1))

    with pytest.raises(TokenInvalid):
        Tokens(NEW_KEY).read(Purpose.CONFIRM, token, 60)

    assert bool(tried) is decoded


# The web side: every unusable link gets the same clear page, never a 500.


@pytest.fixture
def link(client, outbox):
    register(client)
    client.get("/unconfirmed")  # shows (and so drops) the registration's flash message
    return outbox()[0].link("/confirm/")


def _token(link):
    return link.removeprefix("/confirm/")


def _tampered(token):
    """Change one character of the signed payload."""
    i = 3
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def test_valid_link_shows_the_button_page(client, link):
    response = client.get(link)

    assert response.status_code == 200
    assert "Confirm my address" in response.text


@pytest.mark.parametrize(
    "bad_path",
    [
        "/confirm/",
        "/confirm/%s" % ("x" * 10 * 1024),
        "/confirm/%C3%A9t%C3%A9",
        "/confirm/abc.def.ghi",
        "/confirm/%00",
        "/confirm/..%2F..%2Fetc",
    ],
    ids=["empty", "10KB", "non-ascii", "junk", "nul", "traversal"],
)
def test_junk_tokens_get_the_invalid_link_page(client, link, bad_path):
    expected = client.get(f"/confirm/{_tampered(_token(link))}")

    response = client.get(bad_path)

    assert response.status_code == 404
    assert response.data == expected.data
    assert "This link does not work" in response.text


def test_tampered_token_gets_the_invalid_link_page(client, link):
    response = client.get(f"/confirm/{_tampered(_token(link))}")

    assert response.status_code == 404
    assert "This link does not work" in response.text


def test_truncated_token_gets_the_invalid_link_page(client, link):
    response = client.get(link[:-6])

    assert response.status_code == 404
    assert "This link does not work" in response.text


def test_non_ascii_character_inside_a_real_token_gets_the_invalid_link_page(client, link):
    response = client.get(link[:-1] + "\u00e9")

    assert response.status_code == 404
    assert "This link does not work" in response.text


def test_posting_a_tampered_token_confirms_nothing(client, link, get_user):
    token = csrf_token(client.get(link))
    response = client.post(f"/confirm/{_tampered(_token(link))}", data={"csrf_token": token})

    assert response.status_code == 404
    assert get_user("alice@example.com").confirmed_at is None


def test_token_of_another_purpose_gets_the_invalid_link_page(app, client, link, get_user):
    user = get_user("alice@example.com")
    with app.app_context():
        payload = app.extensions["mailproof"].tokens.read(Purpose.CONFIRM, _token(link), 60)
        forged = app.extensions["mailproof"].tokens.issue(Purpose.RESET, payload)
    assert payload["u"] == user.id

    response = client.get(f"/confirm/{forged}")

    assert response.status_code == 404


def test_token_of_a_deleted_account_gets_the_invalid_link_page(app, client, link):
    with app.app_context():
        db.session.execute(delete(models.user))
        db.session.commit()

    response = client.get(link)

    assert response.status_code == 404
    assert "This link does not work" in response.text


@pytest.fixture
def make_app(app, config):
    """Return a factory of more apps on the same database, closing their connections after."""
    made = []

    def make(**overrides):
        made.append(create_app({**config, **overrides}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_link_signed_with_old_key_still_confirms_after_rotation(make_app, outbox, get_user):
    old_app = make_app(SECRET_KEY=OLD_KEY)
    register(old_app.test_client())
    link = outbox()[0].link("/confirm/")
    rotated = make_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY])

    response = submit(rotated.test_client(), link)

    assert response.status_code == 302
    assert get_user("alice@example.com").confirmed_at is not None


def test_link_signed_with_a_dropped_key_is_refused(make_app, outbox):
    old_app = make_app(SECRET_KEY=OLD_KEY)
    register(old_app.test_client())
    link = outbox()[0].link("/confirm/")
    rotated = make_app(SECRET_KEY=NEW_KEY)

    assert rotated.test_client().get(link).status_code == 404


def test_links_mailed_after_rotation_need_only_the_current_key(make_app, outbox):
    rotated = make_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY])
    register(rotated.test_client())
    link = outbox()[0].link("/confirm/")
    new_only = make_app(SECRET_KEY=NEW_KEY)

    assert new_only.test_client().get(link).status_code == 200


# Expiry.


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2026-01-05 12:00:00", tick=False)
    return time_machine


def test_link_works_until_its_max_age(client, frozen, outbox):
    register(client)
    link = outbox()[0].link("/confirm/")

    frozen.shift(86400)
    assert client.get(link).status_code == 200


def test_link_past_its_max_age_shows_the_expired_page(client, frozen, outbox, get_user):
    register(client)
    link = outbox()[0].link("/confirm/")

    frozen.shift(86401)
    response = client.get(link)
    posted = submit(client, link)

    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert posted.status_code == 410
    assert get_user("alice@example.com").confirmed_at is None


def test_expired_page_does_not_show_the_address(client, frozen, outbox):
    register(client)
    link = outbox()[0].link("/confirm/")

    frozen.shift(86401)
    response = client.get(link)

    assert "alice" not in response.text.lower()


def test_expired_page_button_mails_a_fresh_link_that_works(app, client, frozen, outbox, get_user):
    register(client)
    link = outbox()[0].link("/confirm/")
    frozen.shift(86401)
    # Another browser holds the link: only the one that signed up may see the address.
    client = app.test_client()

    page = client.get(link)
    renewed = client.post(
        f"{link}/renew", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )

    assert renewed.status_code == 200
    assert "alice" not in renewed.text.lower()
    mails = outbox()
    assert len(mails) == 2
    assert mails[1].to == "alice@example.com"
    fresh = mails[1].link("/confirm/")
    assert fresh != link
    assert submit(client, fresh).status_code == 302
    assert get_user("alice@example.com").confirmed_at is not None


def test_renew_button_with_a_forged_token_sends_nothing(client, frozen, outbox, link):
    page = client.get(link)

    response = client.post(
        f"/confirm/{_tampered(_token(link))}/renew", data={"csrf_token": csrf_token(page)}
    )

    assert response.status_code == 404
    assert len(outbox()) == 1


def _renew(client, link):
    page = client.get("/register")
    return client.post(f"{link}/renew", data={"csrf_token": csrf_token(page)})


def test_renewal_says_a_fresh_link_is_on_its_way(client, frozen, outbox):
    register(client)
    link = outbox()[0].link("/confirm/")
    frozen.shift(86401)

    response = _renew(client, link)

    assert response.headers["Location"] == "/unconfirmed"
    assert "A fresh link is on its way" in client.get("/unconfirmed").text


def test_renewal_too_soon_says_when_another_link_can_be_sent(client, frozen, outbox):
    register(client)
    link = outbox()[0].link("/confirm/")
    frozen.shift(60)

    _renew(client, link)

    assert "ask for another in 2 minutes" in client.get("/unconfirmed").text
    assert len(outbox()) == 1


def test_renewal_for_a_confirmed_account_says_so_and_sends_nothing(client, frozen, outbox):
    register(client)
    link = outbox()[0].link("/confirm/")
    submit(client, link)
    frozen.shift(86401)

    response = _renew(client, link)

    assert response.headers["Location"] == "/login"
    assert "confirmed already" in client.get("/login").text
    assert len(outbox()) == 1


def test_renewal_for_a_deleted_account_gets_the_invalid_link_page(app, client, frozen, outbox):
    register(client)
    link = outbox()[0].link("/confirm/")
    with app.app_context():
        db.session.execute(delete(models.user))
        db.session.commit()
    frozen.shift(86401)

    response = _renew(client, link)

    assert response.status_code == 404
    assert len(outbox()) == 1


def test_a_claim_travels_under_its_short_keys():
    tokens = Tokens(NEW_KEY, lifetimes={Purpose.RESET: 60})
    claim = ResetClaim(user_id=7, counter=2, state="abc")

    token = tokens.issue_claim(claim)

    assert tokens.read(Purpose.RESET, token) == {"u": 7, "n": 2, "b": "abc"}
    assert tokens.read_claim(ResetClaim, token) == claim


def test_a_claim_is_read_with_its_purposes_lifetime(time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    tokens = Tokens(NEW_KEY, lifetimes={Purpose.RESET: 60})
    token = tokens.issue_claim(ResetClaim(user_id=7, counter=2, state="abc"))
    time_machine.shift(61)

    with pytest.raises(TokenExpired):
        tokens.read_claim(ResetClaim, token)


@pytest.mark.parametrize(
    "payload",
    [
        {"u": 7, "n": 2},  # a field missing
        {"u": "7", "n": 2, "b": "abc"},  # a number as text
        {"u": True, "n": 2, "b": "abc"},  # a bool is no id
        ["u", 7],  # no mapping at all
    ],
)
def test_a_payload_that_is_not_the_claim_is_refused(payload):
    tokens = Tokens(NEW_KEY, lifetimes={Purpose.RESET: 60})

    with pytest.raises(TokenInvalid):
        tokens.read_claim(ResetClaim, tokens.issue(Purpose.RESET, payload))


def test_every_purpose_has_a_lifetime_and_a_mailed_page(app):
    lifetimes = app.extensions["mailproof"].settings.token_lifetimes()

    assert set(lifetimes) == set(Purpose)
    assert set(MAILED_LINKS) == set(Purpose)
    assert all(endpoint in app.view_functions for endpoint, _ in MAILED_LINKS.values())


def test_stored_secrets_are_keyed_with_the_current_key_not_a_fallback():
    tokens = Tokens("the current key", ["an older key"])

    assert tokens.mac(b"message") == hmac.new(b"the current key", b"message", "sha256").hexdigest()
