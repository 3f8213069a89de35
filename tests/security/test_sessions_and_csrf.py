"""Sessions: new at login, cookie flags, remember-me bound to the stamp; CSRF on every POST."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof.flows.accounts import rotate_session_stamp
from flask_mailproof.flows.confirmation import confirmation_token
from flask_mailproof.flows.contact import contact_token, submit_contact_message
from flask_mailproof.flows.email_change import confirm_email_change, request_email_change
from flask_mailproof.flows.password_reset import reset_token
from helpers import PASSWORD, csrf_token, session_of, submit

NEW_PASSWORD = "an entirely different passphrase"


@pytest.fixture
def alice(make_user):
    return make_user("alice@example.com")


def cookie_header(response, name):
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


def is_logged_in(client):
    return client.get("/profile").status_code == 200


@pytest.mark.usefixtures("alice")
def test_login_starts_a_new_session(app, client):
    before = client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        planted_csrf = session["csrf_token"]

    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(before),
            "email": "alice@example.com",
            "password": PASSWORD,
        },
    )

    after = session_of(app, response)
    assert response.status_code == 302
    assert "planted" not in after
    assert after.get("csrf_token") != planted_csrf


def plant(client):
    """Plant a value in the client's session, as a fixation attack would; return its CSRF secret."""
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        return session["csrf_token"]


def assert_fresh(app, response, planted_csrf):
    after = session_of(app, response)
    assert response.status_code == 302
    assert "planted" not in after
    assert after.get("csrf_token") != planted_csrf


@pytest.mark.usefixtures("alice")
def test_password_change_starts_a_new_session(app, client, login):
    login("alice@example.com")
    page = client.get("/change-password")
    planted_csrf = plant(client)

    response = client.post(
        "/change-password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )

    assert_fresh(app, response, planted_csrf)


def test_password_reset_starts_a_new_session(app, client, alice):
    with app.app_context():
        link = f"/reset/{reset_token(db.session.get(type(alice), alice.id))}"
    page = client.get(link, follow_redirects=True)
    planted_csrf = plant(client)

    response = client.post(
        "/reset/set-password",
        data={
            "csrf_token": csrf_token(page),
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )

    assert_fresh(app, response, planted_csrf)
    assert "mailproof_reset_token" not in session_of(app, response)


@pytest.mark.usefixtures("alice")
def test_session_and_remember_cookies_are_httponly_lax_and_secure(client, login):
    response = login("alice@example.com", remember="y")

    for name in ("session", "remember_token"):
        header = cookie_header(response, name)
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" in header


@pytest.mark.app_config(DEBUG=True)
@pytest.mark.usefixtures("alice")
def test_cookies_are_not_secure_in_debug_so_http_development_works(client, login):
    response = login("alice@example.com")

    assert "Secure" not in cookie_header(response, "session")


def remember_cookie(app, login):
    response = login("alice@example.com", remember="y")
    value = cookie_header(response, "remember_token").split(";", 1)[0].split("=", 1)[1]
    fresh = app.test_client()
    fresh.set_cookie("remember_token", value)
    return fresh


@pytest.mark.usefixtures("alice")
def test_remember_cookie_logs_in_a_new_browser_session(app, login):
    assert is_logged_in(remember_cookie(app, login))


def test_remember_cookie_dies_with_the_session_stamp(app, login, alice):
    fresh = remember_cookie(app, login)
    with app.app_context():
        user = db.session.get(type(alice), alice.id)
        rotate_session_stamp(user)
        db.session.commit()

    assert not is_logged_in(fresh)


# CSRF: every POST, with no token, another session's token, or one from before login.


def other_sessions_token(app):
    return csrf_token(app.test_client().get("/login"))


@pytest.fixture
def pending(make_user):
    return make_user("pending@example.com", confirmed=False)


@pytest.fixture
def carol(make_user):
    return make_user("carol@example.com")


def mailed_token(outbox, kind):
    [mail] = [m for m in outbox() if m.kind == kind]
    return mail.links[0].rstrip("/").rsplit("/", 1)[1]


def logged_out_posts(app, pending, alice, carol, outbox):
    """Every logged-out POST, and the button of every mailed link, with fields that would work."""
    with app.app_context():
        token = confirmation_token(db.session.get(type(pending), pending.id))
        reset = reset_token(db.session.get(type(alice), alice.id))
        contact = contact_token(
            submit_contact_message("Dana", "dana@example.com", "Hi").contact_message
        )
        # Carol moves to carol.new@ (an undo link for carol@) and asks to move on to carol.3@.
        user = db.session.get(type(carol), carol.id)
        request_email_change(user, "carol.new@example.com", PASSWORD)
        confirm_email_change(mailed_token(outbox, "email_change"))
        undo = mailed_token(outbox, "email_changed")
        request_email_change(user, "carol.3@example.com", PASSWORD)
        change = [m for m in outbox() if m.kind == "email_change"][-1].links[0].rsplit("/", 1)[1]
    return {
        "/register": {
            "email": "new@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        "/login": {"email": "alice@example.com", "password": PASSWORD},
        "/resend": {"email": "pending@example.com"},
        f"/confirm/{token}": {},
        f"/confirm/{token}/renew": {},
        "/reset": {"email": "alice@example.com"},
        f"/reset/{reset}": {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        "/reset/set-password": {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        "/contact": {"name": "Eve", "email": "eve@example.com", "message": "Hello"},
        f"/contact/verify/{contact}": {},
        f"/change-email/{change}": {},
        f"/change-email/undo/{undo}": {},
    }


LOGGED_OUT_POSTS = [
    "register",
    "login",
    "resend",
    "confirm",
    "renew",
    "reset",
    "reset link",
    "set-password",
    "contact",
    "contact link",
    "change-email link",
    "undo link",
]


def state(app, client, outbox, get_user):
    """What a forged POST must not change: accounts, passwords, addresses, mail, held
    messages, confirmation, who is logged in."""
    pending = get_user("pending@example.com")
    with app.app_context():
        held = db.session.scalars(select(models.contact_message.status)).all()
    return (
        get_user("new@example.com") is not None,
        len(outbox()),
        pending.confirmed_at,
        pending.confirm_counter,
        get_user("alice@example.com").password_hash,
        get_user("carol.new@example.com") is not None,
        held,
        client.get("/profile").status_code,
    )


@pytest.mark.parametrize("token_kind", ["none", "other session"])
@pytest.mark.parametrize("url_index", range(len(LOGGED_OUT_POSTS)), ids=LOGGED_OUT_POSTS)
def test_logged_out_post_without_its_own_token_is_refused(
    app, client, outbox, get_user, pending, alice, carol, token_kind, url_index
):
    posts = logged_out_posts(app, pending, alice, carol, outbox)
    url, data = list(posts.items())[url_index]
    client.get("/login")
    if url == "/reset/set-password":
        # Opening the reset link puts its token in the session, where this form reads it.
        [link] = [u for u in posts if u.startswith("/reset/") and u != url]
        client.get(link)
    if token_kind == "other session":
        data = {**data, "csrf_token": other_sessions_token(app)}
    before = state(app, client, outbox, get_user)

    response = client.post(url, data=data)

    assert response.status_code == 400
    assert state(app, client, outbox, get_user) == before


#: Logged-in POSTs: who is logged in, and fields that would work with the right token.
LOGGED_IN_POSTS = {
    "/logout": ("pending@example.com", {}),
    "/logout-everywhere": ("alice@example.com", {}),
    "/resend": ("pending@example.com", {}),
    "/change-password": (
        "alice@example.com",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    ),
    "/change-email": (
        "alice@example.com",
        {"email": "alice.new@example.com", "current_password": PASSWORD},
    ),
    "/contact": (
        "alice@example.com",
        {"name": "Alice", "email": "alice@example.com", "message": "Hi"},
    ),
}


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("token_kind", ["none", "other session", "before login"])
@pytest.mark.parametrize("url", LOGGED_IN_POSTS)
def test_logged_in_post_without_its_own_token_is_refused(
    app, client, outbox, get_user, pending, token_kind, url
):
    who, fields = LOGGED_IN_POSTS[url]
    pre_login_token = csrf_token(client.get("/login"))
    submit(client, "/login", {"email": who, "password": PASSWORD})
    data = {
        "none": {},
        "other session": {"csrf_token": other_sessions_token(app)},
        "before login": {"csrf_token": pre_login_token},
    }[token_kind]
    before = get_user(who)
    mails = len(outbox())

    response = client.post(url, data={**fields, **data})

    assert response.status_code == 400
    home = "/unconfirmed" if before.confirmed_at is None else "/profile"
    assert client.get(home).get_data(as_text=True).count(who)
    after = get_user(who)
    assert (after.password_hash, after.email) == (before.password_hash, before.email)
    assert len(outbox()) == mails


@pytest.mark.usefixtures("alice")
def test_logout_with_its_token_works(client, login):
    login("alice@example.com")
    # The log-out button in the navigation; the profile's "log out everywhere" has the same.
    token = csrf_token(client.get("/profile"))

    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not is_logged_in(client)
