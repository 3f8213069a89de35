"""Sign in with the 6-digit code from a sign-in mail: single use, bound, counted."""

from __future__ import annotations

import re

import pytest

from flask_mailproof.flows import email_login
from flask_mailproof.signals import user_logged_in
from helpers import PASSWORD, csrf_token, register, session_of, submit

EMAIL = "ada@example.com"

pytestmark = pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")


def ask(client, email=EMAIL):
    return submit(client, "/login/email", {"email": email})


def code_of(mail):
    return re.search(r"^\s+(\d{6})\s*$", mail.text, re.MULTILINE).group(1)


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def enter(client, code, email=EMAIL):
    return submit(client, "/login/email/code", {"email": email, "code": code})


def account_of(client):
    return client.get("/api/me").get_json().get("email")


def test_the_mail_carries_a_code_and_the_inbox_page_a_form(client, make_user, outbox):
    make_user(EMAIL)
    ask(client)

    [mail] = outbox(EMAIL)
    page = client.get("/login/email/sent").get_data(as_text=True)

    assert code_of(mail) in mail.html
    assert 'action="/login/email/code"' in page
    assert 'autocomplete="one-time-code"' in page


def test_the_right_code_signs_in_by_code(app, client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    methods = []
    with user_logged_in.connected_to(lambda s, user, method: methods.append(method), app):
        response = enter(client, code_of(outbox(EMAIL)[0]))

    assert response.status_code == 302
    assert account_of(client) == EMAIL
    assert methods == ["email_code"]
    assert session_of(app, response)["mailproof_login"][0] == "email_code"


def test_a_code_works_once(app, client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    code = code_of(outbox(EMAIL)[0])
    enter(client, code)

    again = enter(app.test_client(), code)

    assert again.status_code == 422


def test_the_code_used_kills_the_link_and_the_link_used_kills_the_code(app, make_user, outbox):
    make_user(EMAIL)
    first, second = app.test_client(), app.test_client()
    ask(first)
    [mail] = outbox(EMAIL)
    enter(first, code_of(mail))

    link = mail.link("/login/email/")
    second.get(link)
    assert (
        second.post(link, data={"csrf_token": csrf_token(second.get("/login/email"))}).status_code
        == 410
    )


def test_five_wrong_tries_exhaust_the_code(app, make_user, outbox):
    make_user(EMAIL)
    ask(app.test_client())
    code = code_of(outbox(EMAIL)[0])
    # A new client each time, and the failed-login limits out of the way: the code's own count.
    with app.app_context():
        app.extensions["mailproof"].limits.clear("login_failures_per_address", EMAIL)
    for _ in range(5):
        enter(app.test_client(), wrong(code))
    with app.app_context():
        app.extensions["mailproof"].limits.clear("login_failures_per_address", EMAIL)

    right = enter(app.test_client(), code)

    assert right.status_code == 422
    assert account_of(app.test_client()) is None


def test_an_unknown_address_answers_like_a_wrong_code(app, make_user, outbox):
    make_user(EMAIL)
    ask(app.test_client())
    code = code_of(outbox(EMAIL)[0])

    known = enter(app.test_client(), wrong(code))
    unknown = enter(app.test_client(), wrong(code), email="nobody@example.com")

    def body(response, email):
        return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True).replace(email, "X"))

    assert known.status_code == unknown.status_code == 422
    assert body(known, EMAIL) == body(unknown, "nobody@example.com")


def test_asking_for_an_unknown_address_leaves_every_accounts_code_working(app, make_user, outbox):
    # The answer to an unknown address does a code's work for no account (see codes.py,
    # spend_like_a_code): it must touch no real account's code, or anyone could void the codes
    # waiting in other people's inboxes by asking for addresses nobody has.
    make_user(EMAIL)
    client = app.test_client()
    ask(client)
    code = code_of(outbox(EMAIL)[0])

    ask(app.test_client(), "nobody@example.com")
    response = enter(client, code)

    assert response.status_code == 302
    assert account_of(client) == EMAIL


@pytest.mark.app_config(
    MAILPROOF_VERIFICATION_CODES="with_link", MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="3 per minute"
)
def test_wrong_codes_count_as_failed_logins_per_client(app, make_user, outbox):
    make_user(EMAIL)
    client = app.test_client()
    ask(client)
    code = code_of(outbox(EMAIL)[0])

    answers = [enter(client, wrong(code)).status_code for _ in range(3)]
    answers.append(enter(client, code).status_code)

    assert answers == [422, 422, 422, 429]


@pytest.mark.app_config(
    MAILPROOF_VERIFICATION_CODES="with_link",
    MAILPROOF_LIMIT_LOGIN_FAILURES_PER_ADDRESS="2 per 5 minutes",
)
def test_wrong_codes_count_as_failed_logins_per_address(app, make_user, outbox):
    make_user(EMAIL)
    ask(app.test_client())
    code = code_of(outbox(EMAIL)[0])
    for _ in range(2):
        enter(app.test_client(), wrong(code))

    locked = enter(app.test_client(), code)
    password_login = submit(app.test_client(), "/login", {"email": EMAIL, "password": "x" * 20})

    assert locked.status_code == 429
    assert password_login.status_code == 429


def test_a_reset_code_does_not_sign_in(app, client, make_user, outbox):
    make_user(EMAIL)
    submit(client, "/reset", {"email": EMAIL})

    response = enter(client, code_of(outbox(EMAIL)[0]))

    assert response.status_code == 422
    assert account_of(client) is None


def test_a_sign_in_code_does_not_reset_the_password(app, client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    token = client.get("/api/csrf").get_json()["csrf_token"]

    response = client.post(
        "/api/reset-code",
        json={"email": EMAIL, "code": code_of(outbox(EMAIL)[0]), "password": PASSWORD + " again"},
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16", "12 34 5"]
)
def test_malformed_codes_get_a_form_error(client, make_user, outbox, code):
    make_user(EMAIL)

    assert enter(client, code).status_code == 422


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="off")
def test_without_codes_there_is_no_code_form(client):
    assert client.get("/login/email/code").status_code == 404


def sign_in_code(outbox):
    return code_of([m for m in outbox(EMAIL) if m.kind == "login_link"][-1])


def test_a_code_entered_where_the_account_was_signed_up_keeps_its_password(app, outbox, get_user):
    # The browser holding the sign-up's receipt chose the password: proving the mailbox there
    # confirms the account as it is (elsewhere, the password would be removed as a squatter's).
    owner = app.test_client()
    register(owner, EMAIL, PASSWORD)
    ask(owner)

    response = enter(owner, sign_in_code(outbox))

    assert response.status_code == 302
    assert get_user(EMAIL).password_hash is not None
    logged_in = submit(app.test_client(), "/login", {"email": EMAIL, "password": PASSWORD})
    assert logged_in.status_code == 302


def test_a_code_entered_where_the_account_is_logged_in_keeps_its_password(app, outbox, get_user):
    # Signed up in one browser, logged in with the password in another: that one knows the
    # password in force, so the code entered there keeps it, as the sign-up's browser would.
    register(app.test_client(), EMAIL, PASSWORD)
    owner = app.test_client()
    assert submit(owner, "/login", {"email": EMAIL, "password": PASSWORD}).status_code == 302
    ask(owner)

    response = enter(owner, sign_in_code(outbox))

    assert response.status_code == 302
    assert get_user(EMAIL).password_hash is not None


def test_a_sign_in_by_code_carries_no_next_path(app, client, make_user, outbox):
    # A SignIn's next_url is a same-site path or "": the path asked for travels in the mailed
    # link, not with the code. The views check it again before redirecting; a host app that
    # calls the flow itself relies on the flow's word.
    make_user(EMAIL)
    submit(client, "/login/email?next=/change-email", {"email": EMAIL})

    with app.test_request_context():
        done = email_login.sign_in_with_code(EMAIL, code_of(outbox(EMAIL)[0]))

    assert (done.user.email, done.method, done.next_url) == (EMAIL, "email_code", "")
