"""MAILPROOF_PASSWORDLESS_SIGNUP: a sign-in request for a free address mails a link whose
button creates the account, confirmed and without a password; otherwise nothing, or a notice."""

from __future__ import annotations

import pytest

from flask_mailproof import email_confirmed, user_logged_in, user_registered
from flask_mailproof.clock import utcnow
from helpers import PASSWORD, csrf_token, submit

EMAIL = "new@example.com"
SIGNUP = pytest.mark.app_config(MAILPROOF_PASSWORDLESS_SIGNUP=True)


def ask(client, email=EMAIL):
    return submit(client, "/login/email", {"email": email})


def press(client, link, **fields):
    client.get(link)
    token = csrf_token(client.get("/login/email"))
    return client.post(link, data={"csrf_token": token, **fields})


@SIGNUP
def test_a_free_address_gets_a_sign_up_link(client, outbox, get_user):
    ask(client)

    [mail] = outbox(EMAIL)
    page = client.get(mail.link("/login/email/"))

    assert mail.kind == "login_signup"
    assert "Create my account" in page.get_data(as_text=True)
    assert get_user(EMAIL) is None


@SIGNUP
def test_its_button_creates_a_confirmed_account_without_a_password(client, outbox, get_user):
    ask(client)

    response = press(client, outbox(EMAIL)[0].link("/login/email/"))

    assert response.status_code == 302
    user = get_user(EMAIL)
    assert user.confirmed_at is not None
    assert user.password_hash is None
    assert client.get("/api/me").get_json()["email"] == EMAIL


@SIGNUP
def test_the_new_account_is_signed_up_confirmed_and_signed_in_at_the_click(
    app, client, outbox, get_user
):
    # What the rest of the product reads of a new account: its times, its first login, the
    # signals a host listens to, and a sign-in by mail, which stands in for a password.
    signals = []

    def receive(sender, **kwargs):
        signals.append((sender, kwargs.get("user"), kwargs.get("method")))

    submit(client, "/login/email?next=/change-password", {"email": EMAIL})
    link = outbox(EMAIL)[0].link("/login/email/")
    before = utcnow()
    with (
        user_registered.connected_to(receive),
        email_confirmed.connected_to(receive),
        user_logged_in.connected_to(receive),
    ):
        response = press(client, link)
    after = utcnow()
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    user = get_user(EMAIL)
    assert response.headers["Location"] == "/change-password"
    assert "Welcome: your account is created, and you are signed in." in page
    # The click proved the mailbox: a first password needs no current one.
    assert 'name="password"' in page
    assert 'name="current_password"' not in page
    # One instant for all three, as statistics read them.
    assert before <= user.registered_at == user.confirmed_at == user.last_login_at <= after
    assert user.login_counter == 1
    assert user.session_stamp
    assert [(sender, u.email, method) for sender, u, method in signals] == [
        (app, EMAIL, None),
        (app, EMAIL, None),
        (app, EMAIL, "email_link"),
    ]


@SIGNUP
def test_the_sign_up_link_works_once(app, client, outbox):
    ask(client)
    link = outbox(EMAIL)[0].link("/login/email/")
    press(client, link)

    assert press(app.test_client(), link, other_device="y").status_code == 410


@SIGNUP
def test_the_sign_up_link_asks_in_another_browser(app, client, outbox, get_user):
    ask(client)

    response = press(app.test_client(), outbox(EMAIL)[0].link("/login/email/"))

    assert response.status_code == 422
    assert get_user(EMAIL) is None


@SIGNUP
def test_a_sign_up_link_dies_once_someone_registers_the_address(app, client, outbox):
    ask(client)
    link = outbox(EMAIL)[0].link("/login/email/")
    submit(
        app.test_client(),
        "/register",
        {"email": EMAIL, "password": PASSWORD, "password_confirm": PASSWORD},
    )

    assert press(client, link).status_code == 410


@SIGNUP
def test_a_known_address_still_gets_a_sign_in_link(client, make_user, outbox):
    make_user(EMAIL)
    ask(client)

    assert [m.kind for m in outbox(EMAIL)] == ["login_link"]


def test_without_sign_up_a_free_address_gets_no_mail(client, outbox):
    ask(client)

    assert outbox() == []


@pytest.mark.app_config(MAILPROOF_LOGIN_NOTIFY_UNKNOWN=True)
def test_the_optional_notice_tells_a_free_address_it_has_no_account(client, outbox):
    ask(client)

    [mail] = outbox(EMAIL)
    assert mail.kind == "login_unknown"
    assert "no account has this address" in mail.text
    assert not [link for link in mail.links if "/login/email/" in link]
    # It names the address asked with (a person may own several) and offers to register it,
    # since whoever asked may have meant to.
    for body in (mail.text, mail.html):
        assert f"sign in here with {EMAIL}" in body
    assert mail.link("/register") == "/register"


@pytest.mark.app_config(MAILPROOF_LOGIN_NOTIFY_UNKNOWN=True, MAILPROOF_PASSWORDLESS="only")
def test_the_notice_offers_no_registration_where_accounts_sign_in_by_mail_only(client, outbox):
    # With passwordless "only" there is no registration page to offer: a link to it would
    # lead nowhere, so the notice only says that no account has the address.
    ask(client)

    [mail] = outbox(EMAIL)
    assert mail.kind == "login_unknown"
    assert f"sign in here with {EMAIL}" in mail.text
    assert "register" not in mail.text.lower()
    assert "register" not in mail.html.lower()


@SIGNUP
def test_the_sign_up_page_names_the_address_and_asks_nothing_in_the_browser_that_asked(
    client, outbox
):
    # The warning about another browser must stay for links that really were forwarded: shown
    # to the person who asked, it would teach them to tick past it.
    ask(client)

    page = client.get(outbox(EMAIL)[0].link("/login/email/")).get_data(as_text=True)

    assert f"create an account for {EMAIL}" in page
    assert "asked for in another browser" not in page
