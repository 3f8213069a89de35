"""Accounts without a password: refused at password login like a wrong password, offered
"set a password", reset as "set a password", and changes behind a fresh sign-in by mail."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from demo.models import db, models
from flask_mailproof.limits import attempt_key
from helpers import PASSWORD, csrf_token, submit

NEW_PASSWORD = "violet submarine orchestra pebble"
START = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)
OWNER = "nopass@example.com"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def set_password(client, new=NEW_PASSWORD, **extra):
    return submit(client, "/change-password", {"password": new, "password_confirm": new, **extra})


def test_password_login_refuses_it_as_a_wrong_password(client, make_user):
    make_user(OWNER, password=None)
    make_user("haspass@example.com")

    none = submit(client, "/login", {"email": OWNER, "password": PASSWORD})
    wrong = submit(client, "/login", {"email": "haspass@example.com", "password": "not it, no"})

    assert none.status_code == wrong.status_code == 422
    assert "Wrong address or password." in none.get_data(as_text=True)


def test_password_login_against_it_counts_as_a_failed_login(app, client, make_user):
    make_user(OWNER, password=None)
    for _ in range(5):
        submit(client, "/login", {"email": OWNER, "password": PASSWORD})

    assert submit(client, "/login", {"email": OWNER, "password": PASSWORD}).status_code == 429
    with app.app_context():
        limits = app.extensions["mailproof"].limits
        assert limits.is_locked("login_failures_per_address", attempt_key(OWNER))


def test_the_profile_offers_to_set_a_password(client, make_user, login_by_mail):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)

    page = client.get("/profile").get_data(as_text=True)

    assert "Set a password" in page
    assert "Change your password" not in page


def test_the_profile_offers_a_change_to_accounts_with_one(client, make_user, login):
    make_user("haspass@example.com")
    login("haspass@example.com")

    assert "Change your password" in client.get("/profile").get_data(as_text=True)


def test_a_fresh_sign_in_by_mail_sets_the_first_password(
    app, client, make_user, login_by_mail, get_user, clock
):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    form = client.get("/change-password").get_data(as_text=True)
    assert 'name="current_password"' not in form

    response = set_password(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    other = app.test_client()
    assert submit(other, "/login", {"email": OWNER, "password": NEW_PASSWORD}).status_code == 302
    assert get_user(OWNER).password_hash is not None


@pytest.mark.parametrize("method", ["email_link", "email_code"])
def test_a_sign_in_by_mail_stays_fresh_for_ten_minutes(
    client, make_user, login_by_mail, get_user, clock, method
):
    make_user(OWNER, password=None)
    login_by_mail(OWNER, method=method)
    clock.shift(dt.timedelta(seconds=599))

    assert set_password(client).status_code == 302


def test_a_stale_sign_in_asks_for_a_fresh_one(client, make_user, login_by_mail, get_user, clock):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    clock.shift(dt.timedelta(seconds=601))

    page = client.get("/change-password")
    posted = client.post(
        "/change-password",
        data={
            "csrf_token": csrf_token(page),
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )

    assert page.status_code == 200
    assert "Sign in by email first" in page.get_data(as_text=True)
    assert 'name="password"' not in page.get_data(as_text=True)
    assert posted.status_code == 403
    assert get_user(OWNER).password_hash is None


def test_the_fresh_sign_in_it_asks_for_comes_back_to_the_page(
    client, make_user, login_by_mail, clock
):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    clock.shift(dt.timedelta(seconds=601))

    page = client.get("/change-password").get_data(as_text=True)

    assert 'href="/login/email?next=/change-password"' in page


@pytest.mark.app_config(MAILPROOF_FRESH_LOGIN_MAX_AGE=60)
def test_the_freshness_bound_is_a_setting(client, make_user, login_by_mail, get_user, clock):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    clock.shift(dt.timedelta(seconds=61))

    assert "Sign in by email first" in client.get("/change-password").get_data(as_text=True)


def test_a_password_login_is_no_mailbox_proof(client, make_user, login, get_user, clock, app):
    """An account whose password was removed (a contested sign-up) after a password login."""
    make_user(OWNER)
    login(OWNER)
    with app.app_context():
        db.session.execute(models.user.__table__.update().values(password_hash=None))
        db.session.commit()

    assert "Sign in by email first" in client.get("/change-password").get_data(as_text=True)


def test_an_account_with_a_password_still_types_it_after_a_sign_in_by_mail(
    client, make_user, login_by_mail, get_user
):
    user = make_user("haspass@example.com")
    login_by_mail("haspass@example.com")

    response = set_password(client)

    assert response.status_code == 422
    assert "Enter your current password." in response.get_data(as_text=True)
    assert get_user("haspass@example.com").password_hash == user.password_hash


def test_the_policy_applies_to_a_first_password(client, make_user, login_by_mail, get_user):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)

    response = set_password(client, new="password")

    assert response.status_code == 422
    assert get_user(OWNER).password_hash is None


def test_setting_a_first_password_ends_other_sessions_and_mails_a_notice(
    app, client, make_user, login_by_mail, outbox
):
    make_user(OWNER, password=None)
    other = app.test_client()
    login_by_mail(OWNER)
    cookie = client.get_cookie("session")
    other.set_cookie("session", cookie.value)

    assert set_password(client).status_code == 302
    assert other.get("/profile").status_code == 302
    assert client.get("/profile").status_code == 200
    assert [m.kind for m in outbox(OWNER)] == ["password_changed"]


def test_an_address_change_needs_a_fresh_sign_in_by_mail(
    client, make_user, login_by_mail, outbox, clock
):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    form = client.get("/change-email").get_data(as_text=True)
    assert 'name="current_password"' not in form

    response = submit(client, "/change-email", {"email": "new@example.com"})

    assert response.status_code == 302
    assert [m.kind for m in outbox("new@example.com")] == ["email_change"]


def test_a_stale_sign_in_cannot_change_the_address(client, make_user, login_by_mail, outbox, clock):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    clock.shift(dt.timedelta(minutes=11))

    response = submit(client, "/change-email", {"email": "new@example.com"})

    assert response.status_code == 403
    assert outbox("new@example.com") == []


def test_reset_mails_a_set_a_password_link(client, make_user, outbox):
    make_user(OWNER, password=None)

    submit(client, "/reset", {"email": OWNER})

    [mail] = outbox(OWNER)
    assert mail.subject == "Set a password"
    assert "It has none yet" in mail.text
    assert "your account stays without a password" in mail.text
    assert "It has none yet" in mail.html


def test_reset_mail_to_an_account_with_a_password_is_unchanged(client, make_user, outbox):
    make_user("haspass@example.com")

    submit(client, "/reset", {"email": "haspass@example.com"})

    [mail] = outbox("haspass@example.com")
    assert mail.subject == "Reset your password"
    assert "It has none yet" not in mail.text


def test_reset_sets_the_first_password_then_login_works(app, client, make_user, outbox, get_user):
    """The lifecycle lesson: no password, a reset sets one, then a password login works."""
    make_user(OWNER, password=None)
    assert submit(client, "/login", {"email": OWNER, "password": NEW_PASSWORD}).status_code == 422
    submit(client, "/reset", {"email": OWNER})
    link = outbox(OWNER)[-1].link("/reset/")

    page = client.get(link, follow_redirects=True)
    assert "Choose a password" in page.get_data(as_text=True)
    response = client.post(
        "/reset/set-password",
        data={
            "csrf_token": csrf_token(page),
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    login = submit(client, "/login", {"email": OWNER, "password": NEW_PASSWORD})
    assert login.status_code == 302


# -- the JSON API: the same rules --------------------------------------------------------


def api_client(app):
    client = app.test_client()
    token = client.get("/api/csrf").get_json()["csrf_token"]
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


def test_api_login_refuses_it_as_a_wrong_password(app, make_user):
    make_user(OWNER, password=None)
    client = api_client(app)

    response = client.post("/api/login", json={"email": OWNER, "password": PASSWORD})

    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"


def test_api_me_says_whether_the_account_has_a_password(app, make_user, login_by_mail, client):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)

    assert client.get("/api/me").get_json()["has_password"] is False


def test_api_sets_a_first_password_after_a_fresh_sign_in(
    app, client, make_user, login_by_mail, get_user, clock
):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get("/api/csrf").get_json()["csrf_token"]

    response = client.post("/api/change-password", json={"password": NEW_PASSWORD})

    assert response.status_code == 200, response.get_json()
    assert get_user(OWNER).password_hash is not None


def test_api_refuses_a_stale_sign_in(app, client, make_user, login_by_mail, get_user, clock):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)
    clock.shift(dt.timedelta(minutes=11))
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get("/api/csrf").get_json()["csrf_token"]

    password = client.post("/api/change-password", json={"password": NEW_PASSWORD})
    address = client.post("/api/change-email", json={"email": "new@example.com"})

    assert password.status_code == address.status_code == 403
    assert password.get_json()["code"] == address.get_json()["code"] == "fresh_login_required"
    assert get_user(OWNER).password_hash is None


def test_api_still_wants_the_current_password_of_an_account_with_one(
    app, client, make_user, login_by_mail, get_user
):
    user = make_user("haspass@example.com")
    login_by_mail("haspass@example.com")
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get("/api/csrf").get_json()["csrf_token"]

    response = client.post("/api/change-password", json={"password": NEW_PASSWORD})

    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"
    assert get_user("haspass@example.com").password_hash == user.password_hash


@pytest.mark.app_config(MAILPROOF_PASSWORDLESS="on")
def test_a_real_sign_in_link_lets_an_account_without_a_password_set_one(
    client, make_user, get_user, outbox
):
    """The two halves meet: the mailed link's sign-in is the fresh proof that the password form
    of an account without a password asks for, and the password set then logs in."""
    make_user(OWNER, password=None)
    submit(client, "/login/email", {"email": OWNER})
    link = outbox(OWNER)[-1].link("/login/email/")
    client.post(link, data={"csrf_token": csrf_token(client.get(link))})

    form = client.get("/change-password").get_data(as_text=True)
    response = submit(
        client, "/change-password", {"password": PASSWORD, "password_confirm": PASSWORD}
    )

    assert 'name="current_password"' not in form
    assert response.status_code == 302
    assert get_user(OWNER).password_hash is not None
