"""``MAILPROOF_PASSWORDLESS = "only"``: no passwords anywhere, and settings that would make no
sense with it refused at start-up."""

from __future__ import annotations

import pytest

from demo import create_app
from flask_mailproof.errors import ConfigurationError
from helpers import PASSWORD, csrf_token, submit

pytestmark = pytest.mark.app_config(MAILPROOF_PASSWORDLESS="only")

OWNER = "owner@example.com"


def post_with_token(client, url, data):
    """POST with a good CSRF token (from the registration form): a refusal is then the route's."""
    token = csrf_token(client.get("/register"))
    return client.post(url, data={"csrf_token": token, **data})


def api_client(app):
    client = app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get("/api/csrf").get_json()["csrf_token"]
    return client


@pytest.mark.parametrize("url", ["/change-password", "/reset", "/reset/set-password", "/reset/x"])
def test_the_password_pages_are_gone(client, make_user, login_by_mail, url):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)

    assert client.get(url).status_code == 404
    assert post_with_token(client, url, {"password": PASSWORD}).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/api/login", "/api/change-password", "/api/reset-request", "/api/reset", "/api/reset-code"],
)
def test_the_apis_password_endpoints_are_gone(app, url):
    response = api_client(app).post(url, json={"email": OWNER, "password": PASSWORD})

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


@pytest.mark.app_config(MAILPROOF_PASSWORDLESS="on")
@pytest.mark.parametrize("url", ["/change-password", "/reset"])
def test_on_keeps_the_password_pages(client, url):
    assert client.get(url).status_code != 404


def test_the_login_page_has_no_password_field_and_takes_no_password(client, make_user):
    make_user(OWNER)  # an account from before "only", with a password

    page = client.get("/login")
    posted = post_with_token(client, "/login", {"email": OWNER, "password": PASSWORD})

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'type="password"' not in text
    assert "Forgot your password?" not in text
    assert posted.status_code == 404
    assert client.get("/profile").status_code == 302  # nobody logged in


def test_registration_asks_only_for_the_address(client, get_user, outbox):
    page = client.get("/register").get_data(as_text=True)
    assert 'type="password"' not in page

    response = submit(client, "/register", {"email": OWNER})

    assert response.status_code == 302
    assert response.headers["Location"] == "/unconfirmed"
    user = get_user(OWNER)
    assert user.password_hash is None
    assert user.confirmed_at is None
    assert [m.kind for m in outbox(OWNER)] == ["confirm"]


def test_the_confirmation_proves_the_mailbox_and_logs_nobody_in(client, get_user, outbox):
    submit(client, "/register", {"email": OWNER})
    link = outbox(OWNER)[-1].link("/confirm/")

    response = client.post(link, data={"csrf_token": csrf_token(client.get(link))})

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert get_user(OWNER).confirmed_at is not None
    assert client.get("/profile").status_code == 302
    assert [m.kind for m in outbox(OWNER)] == ["confirm"]  # no reset mail: nothing to choose


def test_an_attacker_pre_registering_an_address_gets_nothing(app, get_user, outbox):
    """The attacker signs the victim's address up: there is no password to know, no page
    takes one, and the victim's confirmation (from another browser) leaves no mail for a
    password to choose."""
    attacker = app.test_client()
    assert submit(attacker, "/register", {"email": OWNER}).status_code == 302
    posted = post_with_token(attacker, "/login", {"email": OWNER, "password": PASSWORD})
    assert posted.status_code == 404
    assert attacker.get("/profile").status_code == 302

    victim = app.test_client()
    link = outbox(OWNER)[-1].link("/confirm/")
    victim.post(link, data={"csrf_token": csrf_token(victim.get(link))})

    assert get_user(OWNER).confirmed_at is not None
    assert get_user(OWNER).password_hash is None
    assert attacker.get("/profile").status_code == 302
    assert [m.kind for m in outbox(OWNER)] == ["confirm"]


def test_signing_up_again_answers_alike_and_sets_no_password(client, make_user, get_user, outbox):
    make_user(OWNER, password=None)

    response = submit(client, "/register", {"email": OWNER})

    assert response.status_code == 302
    assert get_user(OWNER).password_hash is None
    assert [m.kind for m in outbox(OWNER)] == ["account_exists"]
    assert "/reset" not in outbox(OWNER)[0].text


def test_signing_up_again_kills_the_sign_in_link_mailed_before(app, get_user, outbox, time_machine):
    """Without passwords, the session stamp is what ties a sign-in link to the sign-up it was
    mailed for: a second sign-up (after the resend interval) ends the first one's links, as
    it does where a new password kills them, and its own mail is the one to use."""
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    first = app.test_client()
    submit(first, "/register", {"email": OWNER})
    submit(first, "/login/email", {"email": OWNER})
    link = outbox(OWNER)[-1].link("/login/email/")

    time_machine.shift(180)
    submit(app.test_client(), "/register", {"email": OWNER})
    page = first.get(link)
    pressed = post_with_token(first, link, {})

    assert "This link no longer works" in page.get_data(as_text=True)
    assert pressed.status_code == page.status_code
    assert first.get("/profile").status_code == 302  # nobody signed in
    assert get_user(OWNER).confirmed_at is None


def test_the_api_registers_the_address_alone(app, get_user):
    client = api_client(app)

    response = client.post("/api/register", json={"email": OWNER})

    assert response.status_code == 202
    assert get_user(OWNER).password_hash is None


def test_the_api_refuses_a_password_at_registration(app, get_user):
    response = api_client(app).post("/api/register", json={"email": OWNER, "password": PASSWORD})

    assert response.status_code == 422
    # The client shows this next to the field: what to do, not just that it is wrong.
    assert response.get_json()["fields"] == {
        "password": ["This site uses no passwords; leave it out."]
    }
    assert get_user(OWNER) is None


@pytest.mark.app_config(MAILPROOF_PASSWORDLESS="on")
def test_with_passwords_the_api_still_requires_one(app, get_user):
    response = api_client(app).post("/api/register", json={"email": OWNER})

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"password": ["Choose a password."]}
    assert get_user(OWNER) is None


def test_an_address_change_needs_a_fresh_sign_in_even_with_an_old_password(
    client, make_user, login_by_mail, outbox
):
    make_user(OWNER)  # a password from before "only" is no credential now
    login_by_mail(OWNER)

    form = client.get("/change-email").get_data(as_text=True)
    response = submit(client, "/change-email", {"email": "new@example.com"})

    assert 'name="current_password"' not in form
    assert response.status_code == 302
    assert [m.kind for m in outbox("new@example.com")] == ["email_change"]


def test_the_profile_offers_no_password(client, make_user, login_by_mail):
    make_user(OWNER, password=None)
    login_by_mail(OWNER)

    page = client.get("/profile").get_data(as_text=True)

    assert "Set a password" not in page
    assert "/change-password" not in page


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"MAILPROOF_PASSWORDLESS": "off", "MAILPROOF_PASSWORDLESS_SIGNUP": True}, "SIGNUP"),
        ({"MAILPROOF_RESET_NOTIFY_UNKNOWN": True}, "RESET_NOTIFY_UNKNOWN"),
        ({"MAILPROOF_FRONTEND_URLS": {"reset": "https://a.example/r?t={token}"}}, "FRONTEND_URLS"),
    ],
)
def test_settings_that_make_no_sense_are_refused(config, settings, named):
    with pytest.raises(ConfigurationError, match=named):
        create_app({**config, **settings})


@pytest.mark.parametrize("mode", ["on", "only"])
def test_a_sign_up_by_link_is_fine_where_sign_in_by_link_is(config, mode):
    create_app({**config, "MAILPROOF_PASSWORDLESS": mode, "MAILPROOF_PASSWORDLESS_SIGNUP": True})


@pytest.mark.app_config(MAILPROOF_FRESH_LOGIN_MAX_AGE=0)
def test_a_freshness_bound_of_zero_is_refused(config):
    with pytest.raises(ConfigurationError, match="FRESH_LOGIN_MAX_AGE"):
        create_app(config)


def test_the_openapi_document_leaves_the_removed_endpoints_out(app):
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]

    assert "/api/register" in paths
    assert "/api/change-email" in paths
    assert not {"/api/login", "/api/change-password", "/api/reset", "/api/reset-code"} & set(paths)
    assert "/api/reset-request" not in paths


def test_the_whole_life_runs_on_mail_alone(client, get_user, outbox):
    """Sign up by address, confirm, sign in by the mailed link, change the address: with no
    password anywhere, the real sign-in link is the one credential, and it is fresh enough."""
    submit(client, "/register", {"email": OWNER})
    confirm = outbox(OWNER)[-1].link("/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client.get(confirm))})

    submit(client, "/login/email", {"email": OWNER})
    link = outbox(OWNER)[-1].link("/login/email/")
    signed_in = client.post(link, data={"csrf_token": csrf_token(client.get(link))})
    changed = submit(client, "/change-email", {"email": "new@example.com"})

    assert signed_in.status_code == 302
    assert client.get("/profile").status_code == 200
    assert get_user(OWNER).password_hash is None
    assert changed.status_code == 302
    assert [m.kind for m in outbox("new@example.com")] == ["email_change"]
