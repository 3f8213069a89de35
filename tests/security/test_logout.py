"""Logout ends that browser's login server-side; "log out everywhere" ends every login.

The invariant: after a logout, no cookie the logged-out browser held (session or remember-me,
copied by someone before the logout) is accepted.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from demo.models import db, models
from flask_mailproof.flows.accounts import rotate_session_stamp
from flask_mailproof.flows.password_reset import reset_password, reset_token
from helpers import PASSWORD, csrf_token, submit

NEW_PASSWORD = "an entirely different passphrase"


@pytest.fixture
def alice(make_user):
    return make_user("alice@example.com")


@pytest.fixture
def device(app, alice):
    """Return a factory of browsers logged in as Alice through the login form."""

    def log_in(**extra):
        browser = app.test_client()
        response = submit(
            browser, "/login", {"email": "alice@example.com", "password": PASSWORD, **extra}
        )
        assert response.status_code == 302
        return browser

    return log_in


def is_logged_in(browser):
    return browser.get("/api/me").status_code == 200


def copy_of(app, browser, *names):
    """Return a new browser holding copies of ``browser``'s cookies ``names``, as a thief would."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, browser.get_cookie(name).value)
    return thief


def button_token(browser, url="/profile"):
    """Return the CSRF token of the page's buttons (the navigation's "Log out" among them)."""
    return csrf_token(browser.get(url))


def log_out(browser):
    return browser.post("/logout", data={"csrf_token": button_token(browser)})


def api_post(browser, path, body=None):
    token = browser.get("/api/csrf").get_json()["csrf_token"]
    return browser.post(path, json=body or {}, headers={"X-CSRFToken": token})


def login_rows(app, alice):
    with app.app_context():
        model = models.login_session
        query = select(func.count()).select_from(model).where(model.user_id == alice.id)
        return db.session.scalar(query)


# Finding 1: logout leaves a remember-me login alive.


def test_logout_deletes_the_remember_cookie(device):
    browser = device(remember="y")
    assert browser.get_cookie("remember_token") is not None

    log_out(browser)

    assert browser.get_cookie("remember_token") is None


def test_after_a_remember_me_login_and_logout_the_next_request_is_anonymous(device):
    browser = device(remember="y")

    assert log_out(browser).status_code == 302

    assert browser.get("/profile").headers["Location"].startswith("/login")


def test_after_an_api_remember_me_login_and_logout_the_next_request_is_anonymous(app, alice):
    browser = app.test_client()
    login = {"email": "alice@example.com", "password": PASSWORD, "remember": True}
    assert api_post(browser, "/api/login", login).status_code == 200
    assert browser.get_cookie("remember_token") is not None

    assert api_post(browser, "/api/logout").status_code == 200

    assert browser.get_cookie("remember_token") is None
    assert browser.get("/api/me").status_code == 401


# Finding 14: a cookie copied before logout stops working after it.


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, device):
    browser = device()
    thief = copy_of(app, browser, "session")
    assert is_logged_in(thief)

    log_out(browser)

    assert not is_logged_in(thief)


def test_a_session_cookie_copied_before_logout_is_refused_after_it_in_the_api(app, device):
    browser = device()
    thief = copy_of(app, browser, "session")

    api_post(browser, "/api/logout")

    assert thief.get("/api/me").status_code == 401


def test_a_remember_cookie_copied_before_logout_is_refused_after_it(app, device):
    browser = device(remember="y")
    assert is_logged_in(copy_of(app, browser, "remember_token"))
    thief = copy_of(app, browser, "remember_token")

    log_out(browser)

    assert not is_logged_in(thief)


def test_logging_in_again_ends_the_login_the_browser_held(app, device):
    # Found by the lifecycle model: the first login's remember cookie, replaced in the browser
    # by the second login but copied before, outlived the second login's logout.
    browser = device(remember="y")
    thief = copy_of(app, browser, "remember_token")
    submit(browser, "/login", {"email": "alice@example.com", "password": PASSWORD})

    log_out(browser)

    assert not is_logged_in(thief)


def test_no_cookie_of_the_logged_out_browser_is_accepted(app, device):
    browser = device(remember="y")
    both = copy_of(app, browser, "session", "remember_token")
    session_only = copy_of(app, browser, "session")
    remember_only = copy_of(app, browser, "remember_token")

    log_out(browser)

    assert not any(map(is_logged_in, (browser, both, session_only, remember_only)))


def test_a_session_started_from_the_remember_cookie_ends_with_that_login(app, device):
    # The remember cookie logs a new browser session in; logging that session out ends the
    # login both cookies name, so the original browser's session is out too.
    original = device(remember="y")
    revived = copy_of(app, original, "remember_token")
    assert is_logged_in(revived)

    log_out(revived)

    assert not is_logged_in(original)


def test_another_device_stays_logged_in_when_one_logs_out(device):
    phone, laptop = device(remember="y"), device(remember="y")

    log_out(phone)

    assert is_logged_in(laptop)
    assert not is_logged_in(phone)


def test_logout_deletes_only_that_logins_record(app, alice, device):
    phone, laptop = device(), device()
    assert login_rows(app, alice) == 2

    log_out(phone)

    assert login_rows(app, alice) == 1
    assert is_logged_in(laptop)


# Log out everywhere.


def test_log_out_everywhere_ends_every_login_and_says_so(app, device):
    phone, laptop = device(), device(remember="y")
    laptop_remember = copy_of(app, laptop, "remember_token")

    response = phone.post("/logout-everywhere", data={"csrf_token": button_token(phone)})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "logged out on every device" in phone.get("/").get_data(as_text=True)
    assert not any(map(is_logged_in, (phone, laptop, laptop_remember)))


def test_log_out_everywhere_is_a_button_on_the_profile_page(device):
    page = device().get("/profile").get_data(as_text=True)

    assert 'action="/logout-everywhere"' in page


def test_log_out_everywhere_needs_a_login(app):
    browser = app.test_client()
    page = browser.get("/login")

    response = browser.post("/logout-everywhere", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_api_log_out_everywhere_ends_every_login(app, device, alice):
    phone, laptop = device(), device(remember="y")
    laptop_remember = copy_of(app, laptop, "remember_token")

    response = api_post(phone, "/api/logout-everywhere")

    assert response.status_code == 200
    assert response.get_json() == {"message": "You are logged out on every device."}
    assert not any(map(is_logged_in, (phone, laptop, laptop_remember)))
    assert login_rows(app, alice) == 0


def test_api_log_out_everywhere_needs_a_login(app):
    response = api_post(app.test_client(), "/api/logout-everywhere")

    assert response.status_code == 401
    assert response.get_json()["code"] == "not_authenticated"


# Rotating the stamp removes the account's records; expired records go.


def test_rotating_the_stamp_deletes_every_login_record_of_the_account(
    app, alice, device, make_user
):
    device(), device(remember="y")
    bob = make_user("bob@example.com")
    submit(app.test_client(), "/login", {"email": "bob@example.com", "password": PASSWORD})

    with app.app_context():
        rotate_session_stamp(db.session.get(type(alice), alice.id))
        db.session.commit()

    assert login_rows(app, alice) == 0
    assert login_rows(app, bob) == 1


def test_a_password_reset_deletes_every_login_record_of_the_account(app, alice, device):
    browser = device(remember="y")

    with app.test_request_context():
        reset_password(reset_token(db.session.get(type(alice), alice.id)), NEW_PASSWORD)

    assert login_rows(app, alice) == 0
    assert not is_logged_in(browser)


def test_a_password_change_keeps_only_the_changing_browsers_login(app, alice, device):
    browser, other = device(), device(remember="y")
    page = browser.get("/change-password")

    browser.post(
        "/change-password",
        data={
            "csrf_token": csrf_token(page),
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )

    assert login_rows(app, alice) == 1
    assert is_logged_in(browser)
    assert not is_logged_in(other)


@pytest.mark.app_config(MAILPROOF_LOGIN_MAX_AGE=3600)
def test_a_login_past_its_lifetime_is_refused_with_both_cookies(app, device, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    browser = device(remember="y")
    remember = copy_of(app, browser, "remember_token")

    time_machine.move_to("2026-06-01 13:00:01", tick=False)

    assert not is_logged_in(browser)
    assert not is_logged_in(remember)


@pytest.mark.app_config(MAILPROOF_LOGIN_MAX_AGE=3600)
def test_a_login_within_its_lifetime_is_accepted(app, device, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    browser = device(remember="y")

    time_machine.move_to("2026-06-01 12:59:59", tick=False)

    assert is_logged_in(browser)


@pytest.mark.app_config(REMEMBER_COOKIE_DURATION=dt.timedelta(days=30))
def test_the_lifetime_follows_the_remember_cookie_duration(app, alice, device, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    device(remember="y")

    with app.app_context():
        row = db.session.scalars(select(models.login_session)).one()
    assert row.expires_at - row.created_at == dt.timedelta(days=30)


def test_the_default_lifetime_is_flask_logins_365_days(app):
    assert app.extensions["mailproof"].settings.login_max_age == 365 * 86400


@pytest.mark.app_config(MAILPROOF_LOGIN_MAX_AGE=3600)
def test_purge_logins_deletes_expired_records_only(app, alice, device, make_user, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    device(), device()
    time_machine.move_to("2026-06-01 12:30:00", tick=False)
    make_user("bob@example.com")
    submit(app.test_client(), "/login", {"email": "bob@example.com", "password": PASSWORD})
    time_machine.move_to("2026-06-01 13:10:00", tick=False)
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["mailproof", "purge-logins", "--dry-run"])
    assert "2 expired login(s) would be deleted." in dry.output
    assert login_rows(app, alice) == 2
    result = runner.invoke(args=["mailproof", "purge-logins"])

    assert "2 expired login(s) deleted." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(models.login_session)) == 1


@pytest.mark.app_config(MAILPROOF_LOGIN_MAX_AGE=3600)
def test_a_login_is_expired_from_the_instant_its_lifetime_ends(app, alice, device, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    device()
    runner = app.test_cli_runner()

    time_machine.move_to("2026-06-01 12:59:59", tick=False)
    before = runner.invoke(args=["mailproof", "purge-logins", "--dry-run"])
    time_machine.move_to("2026-06-01 13:00:00", tick=False)
    at_the_end = runner.invoke(args=["mailproof", "purge-logins", "--dry-run"])

    assert before.output == "0 expired login(s) would be deleted.\n"
    assert at_the_end.output == "1 expired login(s) would be deleted.\n"


@pytest.mark.app_config(MAILPROOF_LOGIN_MAX_AGE=3600)
def test_logging_in_deletes_the_accounts_expired_records(app, alice, device, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    device(), device()
    time_machine.move_to("2026-06-01 14:00:00", tick=False)

    device()

    assert login_rows(app, alice) == 1


# What it costs.


def test_an_authenticated_request_loads_user_and_login_in_one_query(app, device):
    browser = device()
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = browser.get("/api/me")
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert response.status_code == 200
    # The login check is one query; /api/me then reads its own address's bounce state, and
    # nothing else.
    assert len(statements) == 2
    assert "mailproof_login_session" in statements[0]
    assert "FROM mailproof_suppression" in statements[1]
