"""Sign in by an emailed link: the request, the mail, the one-button page, the sign-in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from flask_mailproof.clock import utcnow
from flask_mailproof.signals import email_confirmed, login_link_sent, user_logged_in
from helpers import PASSWORD, csrf_token, register, session_of, submit

EMAIL = "ada@example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def ask(client, email=EMAIL, url="/login/email", **kwargs):
    """Ask for a sign-in link from ``client``'s browser; return the answer."""
    return submit(client, url, {"email": email}, **kwargs)


def link_of(outbox, email=EMAIL, index=-1):
    return outbox(email)[index].link("/login/email/")


def press(client, link, **fields):
    """Open the link's page (GET) and press its button (POST), as a person would."""
    page = client.get(link)
    return client.post(link, data={"csrf_token": csrf_token(page), **fields})


def signed_in_as(client):
    return client.get("/api/me").get_json()


def test_the_request_mails_a_link_and_answers_with_the_inbox_page(client, make_user, outbox):
    make_user(EMAIL)

    response = ask(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login/email/sent"
    [mail] = outbox(EMAIL)
    assert mail.kind == "login_link"
    assert mail.link("/login/email/").startswith("/login/email/")
    assert "is on its way" in client.get("/login/email/sent").get_data(as_text=True)


def test_the_mail_says_when_and_from_which_browser_and_how_to_ignore_it(client, make_user, outbox):
    make_user(EMAIL)

    with time_machine.travel(dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC), tick=False):
        ask(client, headers={"User-Agent": FIREFOX})

    [mail] = outbox(EMAIL)
    for part in (mail.text, mail.html):
        assert "2026-12-03 09:30 UTC" in part
        assert "from Firefox" in part
        assert "If this wasn&#39;t you, ignore this mail" in part or (
            "If this wasn't you, ignore this mail" in part
        )
    assert mail.headers["Subject"].endswith("Your sign-in link")


def test_the_get_shows_one_button_and_changes_nothing(client, make_user, outbox, get_user):
    make_user(EMAIL)
    ask(client)
    link = link_of(outbox)
    before = get_user(EMAIL).login_counter

    for _ in range(3):
        page = client.get(link)
        assert page.status_code == 200
        assert client.head(link).status_code == 200

    assert "Sign me in" in page.get_data(as_text=True)
    assert get_user(EMAIL).login_counter == before
    assert signed_in_as(client)["code"] == "not_authenticated"


def test_the_button_signs_in_on_a_fresh_session(app, client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    response = press(client, link_of(outbox))

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    assert signed_in_as(client)["email"] == EMAIL
    after = session_of(app, response)
    # Cleared, then the login's own keys: the nonce that asked is gone with the rest.
    assert "mailproof_login_device" not in after
    assert after["mailproof_login"][0] == "email_link"


def test_the_link_works_once(client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    link = link_of(outbox)
    press(client, link)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/profile"))})

    again = client.get(link)

    assert again.status_code == 410
    assert "no longer works" in again.get_data(as_text=True)


def test_only_the_latest_link_works(client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    ask(client)
    older, newer = link_of(outbox, index=0), link_of(outbox, index=1)

    assert client.get(older).status_code == 410
    assert press(client, newer).status_code == 302


def test_asking_for_an_unknown_address_leaves_every_accounts_link_working(
    app, client, make_user, outbox
):
    # The decoy of an unknown address bumps the counter of no account (id 0): bumping a real
    # one's would let anyone kill an account's outstanding link by asking for a free address.
    make_user(EMAIL)
    ask(client)
    link = link_of(outbox)

    ask(app.test_client(), email="nobody@example.com")

    assert outbox("nobody@example.com") == []
    assert press(client, link).status_code == 302
    assert signed_in_as(client)["email"] == EMAIL


def test_a_superseded_link_stays_dead_after_the_newer_one_signs_in(client, make_user, outbox):
    # Links compare the counter for equality: a sign-in must move it past every value an
    # older link carries, or the link a newer one superseded would work again.
    make_user(EMAIL)
    ask(client)
    ask(client)
    older, newer = link_of(outbox, index=0), link_of(outbox, index=1)
    press(client, newer)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/profile"))})

    assert client.get(older).status_code == 410
    token = csrf_token(client.get("/login/email"))
    assert client.post(older, data={"csrf_token": token}).status_code == 410
    assert signed_in_as(client)["code"] == "not_authenticated"


def test_the_link_expires_after_its_lifetime(client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    link = link_of(outbox)

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=901)):
        expired = client.get(link)

    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)


@pytest.mark.app_config(MAILPROOF_LOGIN_LINK_MAX_AGE=60)
def test_the_lifetime_is_the_setting(client, make_user, outbox):
    make_user(EMAIL)
    ask(client)
    link = link_of(outbox)

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)):
        assert client.get(link).status_code == 410
    assert "1 minute" in outbox(EMAIL)[0].text


def test_a_safe_next_is_carried_through_the_mail(client, make_user, outbox):
    make_user(EMAIL)
    ask(client, url="/login/email?next=/change-email")

    response = press(client, link_of(outbox))

    assert response.headers["Location"] == "/change-email"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_an_unsafe_next_is_dropped(client, make_user, outbox, target):
    make_user(EMAIL)
    ask(client, url=f"/login/email?next={target}")

    response = press(client, link_of(outbox))

    assert response.headers["Location"] == "/profile"


def test_the_signals_say_a_link_went_and_how_the_login_began(app, client, make_user, outbox):
    make_user(EMAIL)
    sent, logged_in = [], []
    with (
        login_link_sent.connected_to(lambda s, user: sent.append(user.email), app),
        user_logged_in.connected_to(lambda s, user, method: logged_in.append(method), app),
    ):
        ask(client)
        press(client, link_of(outbox))

    assert sent == [EMAIL]
    assert logged_in == ["email_link"]


def test_a_confirmed_account_is_only_told_that_it_is_signed_in(client, make_user, outbox):
    # Nothing about its password changed: a word of a removed password would send its owner
    # to choose a new one for nothing, or make them think someone else signed up.
    make_user(EMAIL)
    ask(client)

    press(client, link_of(outbox))

    page = client.get("/profile").get_data(as_text=True)
    assert "You are signed in." in page
    assert "password was removed" not in page
    assert "address is confirmed" not in page


def test_a_first_sign_in_confirms_the_address(client, make_user, outbox, get_user):
    make_user(EMAIL, confirmed=False)
    ask(client)

    press(client, link_of(outbox))

    assert get_user(EMAIL).confirmed_at is not None
    assert client.get("/profile").status_code == 200


def test_a_sign_in_ends_no_other_session_of_a_confirmed_account(
    app, client, make_user, outbox, login
):
    make_user(EMAIL)
    login(EMAIL)
    other = app.test_client()
    ask(other)

    press(other, link_of(outbox))

    assert signed_in_as(client)["email"] == EMAIL
    assert signed_in_as(other)["email"] == EMAIL


def test_a_sign_in_kills_outstanding_reset_links(client, make_user, outbox):
    make_user(EMAIL)
    submit(client, "/reset", {"email": EMAIL})
    reset = outbox(EMAIL)[0].link("/reset/")
    ask(client)

    press(client, link_of(outbox))

    assert client.get(reset, follow_redirects=True).status_code == 410


def test_the_login_page_offers_a_link_where_passwordless_is_on(client):
    assert 'href="/login/email"' in client.get("/login").get_data(as_text=True)


@pytest.mark.app_config(MAILPROOF_PASSWORDLESS="off")
def test_passwordless_off_removes_the_pages_and_the_login_page_link(client, make_user):
    make_user(EMAIL)

    assert client.get("/login/email").status_code == 404
    assert client.get("/login/email/anything").status_code == 404
    assert "/login/email" not in client.get("/login").get_data(as_text=True)


def test_a_password_login_still_records_its_method(app, client, make_user, login):
    make_user(EMAIL, password=PASSWORD)

    response = login(EMAIL)

    assert session_of(app, response)["mailproof_login"][0] == "password"


@pytest.mark.parametrize("email", ["", "not an address", "a@" + "b" * 300 + ".com"])
def test_bad_addresses_get_a_form_error(client, email, outbox):
    response = ask(client, email=email)

    assert response.status_code == 422
    assert outbox() == []


@pytest.mark.parametrize(
    "token", ["x", "a" * 2000, "%00", "..%2f..%2f", "ünïcode", "a.b.c", "AAAA.BBBB.CCCC"]
)
def test_junk_tokens_answer_404_on_get_and_post(client, token):
    token_for_forms = csrf_token(client.get("/login/email"))

    got = client.get(f"/login/email/{token}")
    posted = client.post(f"/login/email/{token}", data={"csrf_token": token_for_forms})

    assert got.status_code == 404
    assert posted.status_code == 404


def test_a_first_sign_in_says_the_address_is_confirmed(client, make_user, outbox):
    # The click was the account's first proof of the mailbox: its owner is told, so they do
    # not look for a confirmation mail to open; nothing was removed, so no word of a password.
    make_user(EMAIL, password=None, confirmed=False)
    ask(client)

    press(client, link_of(outbox))

    page = client.get("/profile").get_data(as_text=True)
    assert "You are signed in, and your address is confirmed." in page
    assert "password was removed" not in page


def test_a_first_sign_in_from_another_browser_says_the_password_was_removed(
    client, make_user, outbox
):
    # The account was signed up for elsewhere, so its password went: its owner must learn why
    # their password login will fail, and where the link to choose one is.
    make_user(EMAIL, confirmed=False)
    ask(client)

    press(client, link_of(outbox))

    page = client.get("/profile").get_data(as_text=True)
    assert "address is confirmed" in page
    assert "its password was removed: we sent you a link to choose one." in page


def test_a_first_sign_in_signals_the_confirmation_then_the_login(app, client, make_user, outbox):
    # A host listening to email_confirmed (to unlock features, to welcome) must hear of a
    # mailbox first proven by a sign-in, as of one proven by a confirmation link, and before
    # the login it led to; with the app as sender and the account, as the signals document.
    make_user(EMAIL, password=None, confirmed=False)
    ask(client)
    signals = []

    def receive(sender, **kwargs):
        user = kwargs.get("user")
        signals.append((sender, user and user.email, kwargs.get("method")))

    with email_confirmed.connected_to(receive), user_logged_in.connected_to(receive):
        press(client, link_of(outbox))

    assert signals == [(app, EMAIL, None), (app, EMAIL, "email_link")]


def test_a_first_sign_in_kills_outstanding_reset_links_too(app, client, outbox, get_user):
    # The owner signed up here, asked for a reset, then signed in by mail: the sign-in is a
    # login, and a reset link from before a login dies, confirmed account or not.
    register(client, EMAIL)
    submit(client, "/reset", {"email": EMAIL})
    reset = outbox(EMAIL)[-1].link("/reset/")
    ask(client)
    before = utcnow()

    press(client, link_of(outbox))

    assert app.test_client().get(reset, follow_redirects=True).status_code == 410
    user = get_user(EMAIL)
    assert user.confirmed_at is not None
    assert user.password_hash is not None  # kept: this browser chose it
    assert before <= user.last_login_at <= utcnow()


def test_the_page_asks_nothing_in_the_browser_that_asked(client, make_user, outbox):
    # The warning about another browser must stay for links that really were forwarded: shown
    # to the person who asked, it would teach them to tick past it.
    make_user(EMAIL)
    ask(client)

    page = client.get(link_of(outbox)).get_data(as_text=True)

    assert f"sign in as {EMAIL}" in page
    assert "asked for in another browser" not in page
