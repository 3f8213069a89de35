"""Attacks on sign-in by mail: forwarded and planted links, replay, dead state, crossed purposes,
forged hosts, pre-registered accounts, limits. Each fails if its defence is undone."""

from __future__ import annotations

import threading

import argon2
import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from demo.models import db, models
from flask_mailproof.errors import OtherDevice
from flask_mailproof.flows import email_login
from helpers import BASE_URL, PASSWORD, csrf_token, register, submit

ADDRESS = "victim@example.com"
NEW_PASSWORD = "a brand new password for the test 4711"
ATTACKER_PASSWORD = "the attacker knows this one, 8472!"


def ask(client, email=ADDRESS, **kwargs):
    return submit(client, "/login/email", {"email": email}, **kwargs)


def latest(outbox, kind, prefix, to=ADDRESS):
    return [m for m in outbox(to) if m.kind == kind][-1].link(prefix)


def sign_in_link(outbox, to=ADDRESS):
    return latest(outbox, "login_link", "/login/email/", to)


def press(client, link, **fields):
    """Open a link's page and press its button (or POST as if it had one: the session's token)."""
    client.get(link)
    token = csrf_token(client.get("/login/email"))
    return client.post(link, data={"csrf_token": token, **fields})


def account_of(client):
    return client.get("/api/me").get_json().get("email")


# Same-device binding: a link opened in a browser that did not ask for it.


def test_a_link_opened_in_another_browser_asks_before_it_signs_in(app, make_user, outbox):
    make_user(ADDRESS)
    ask(app.test_client())
    elsewhere = app.test_client()

    page = elsewhere.get(sign_in_link(outbox))
    pressed = press(elsewhere, sign_in_link(outbox))

    assert "asked for in another browser" in page.get_data(as_text=True)
    assert pressed.status_code == 422
    assert "Tick this" in pressed.get_data(as_text=True)
    assert account_of(elsewhere) is None


def test_a_host_calling_the_flow_without_other_device_gets_the_question(app, make_user, outbox):
    # Only an explicit yes signs in a browser that did not ask: a host's own view that leaves
    # the argument out must get the question, not a session for whoever holds the link.
    make_user(ADDRESS)
    ask(app.test_client())
    token = sign_in_link(outbox).rstrip("/").rsplit("/", 1)[1]

    with app.test_request_context(), pytest.raises(OtherDevice):
        email_login.sign_in_with_link(token, device="another browser's nonce")


def test_a_refused_other_device_press_uses_nothing_up(app, make_user, outbox):
    make_user(ADDRESS)
    asker = app.test_client()
    ask(asker)
    press(app.test_client(), sign_in_link(outbox))

    assert press(asker, sign_in_link(outbox)).status_code == 302
    assert account_of(asker) == ADDRESS


def test_confirming_another_device_signs_in(app, make_user, outbox):
    make_user(ADDRESS)
    ask(app.test_client())
    phone = app.test_client()

    response = press(phone, sign_in_link(outbox), other_device="y")

    assert response.status_code == 302
    assert account_of(phone) == ADDRESS


def test_a_planted_link_does_not_sign_the_victim_into_the_attackers_account(app, make_user, outbox):
    # Login CSRF by mail: the attacker asks for a link to their own account and sends it on.
    make_user("attacker@attacker.example")
    ask(app.test_client(), "attacker@attacker.example")
    victim = app.test_client()
    victim.get("/login/email")  # the victim has a session (and a nonce) of their own

    page = victim.get(sign_in_link(outbox, "attacker@attacker.example"))
    press(victim, sign_in_link(outbox, "attacker@attacker.example"))

    assert "attacker@attacker.example" in page.get_data(as_text=True)
    assert account_of(victim) is None


def test_the_device_nonce_is_never_in_the_mail(app, client, make_user, outbox):
    make_user(ADDRESS)
    ask(client)
    with client.session_transaction() as session:
        nonce = session["mailproof_login_device"]

    [mail] = outbox(ADDRESS)

    assert nonce not in mail.text + mail.html


# Replay and dead state.


def test_replaying_a_used_link_fails(app, make_user, outbox):
    make_user(ADDRESS)
    client = app.test_client()
    ask(client)
    link = sign_in_link(outbox)
    assert press(client, link).status_code == 302

    replay = app.test_client()
    assert press(replay, link, other_device="y").status_code == 410
    assert account_of(replay) is None


def test_a_link_from_before_a_password_change_fails(app, make_user, outbox, login, client):
    make_user(ADDRESS)
    asker = app.test_client()
    ask(asker)
    login(ADDRESS)
    submit(
        client,
        "/change-password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert press(asker, sign_in_link(outbox)).status_code == 410


def test_a_link_from_before_a_reset_fails(app, make_user, outbox):
    make_user(ADDRESS)
    asker = app.test_client()
    ask(asker)
    owner = app.test_client()
    submit(owner, "/reset", {"email": ADDRESS})
    owner.get(latest(outbox, "reset", "/reset/"))
    submit(
        owner, "/reset/set-password", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )

    assert press(asker, sign_in_link(outbox)).status_code == 410


def test_a_link_from_before_logout_everywhere_fails(app, make_user, outbox, login, client):
    make_user(ADDRESS)
    asker = app.test_client()
    ask(asker)
    login(ADDRESS)
    client.post("/logout-everywhere", data={"csrf_token": csrf_token(client.get("/profile"))})

    assert press(asker, sign_in_link(outbox)).status_code == 410


def test_a_link_from_before_an_address_change_fails(app, make_user, outbox, login, client):
    make_user(ADDRESS)
    asker = app.test_client()
    ask(asker)
    login(ADDRESS)
    submit(client, "/change-email", {"email": "moved@example.com", "current_password": PASSWORD})
    press(client, latest(outbox, "email_change", "/change-email/", to="moved@example.com"))

    assert press(asker, sign_in_link(outbox)).status_code == 410


# A change racing a press: the link was read and checked, then the account changed, then the
# sign-in is recorded. The recording UPDATE's WHERE must see the change, as the check did not.


def meanwhile(monkeypatch, act):
    """Run ``act`` once, in another thread (its own request and database session), after a
    press has read and checked its link and before it records the sign-in."""
    complete = email_login._complete
    pending = [act]

    def checked_then_changed(*args, **kwargs):
        if pending:
            other = threading.Thread(target=pending.pop())
            other.start()
            other.join(timeout=30)
        return complete(*args, **kwargs)

    monkeypatch.setattr(email_login, "_complete", checked_then_changed)


def account_row(get_user):
    """What the sign-in's UPDATE checks or writes: a refused press leaves it as it found it."""
    user = get_user(ADDRESS) or get_user("moved@example.com")
    return (
        user.login_counter,
        user.last_login_at,
        user.session_stamp,
        user.email_key,
        user.password_hash,
    )


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "pending"])
def test_of_two_racing_presses_of_one_link_one_signs_in(
    app, make_user, outbox, get_user, monkeypatch, confirmed
):
    # A double click, or the link opened on two devices at once: the link works once. On a
    # pending account the first sign-in also confirms it, and the press that loses the race
    # must get the same "no longer works" page, not an error, and change nothing.
    make_user(ADDRESS, confirmed=confirmed)
    asker, phone = app.test_client(), app.test_client()
    ask(asker)
    link = sign_in_link(outbox)
    other = []

    def second_press():
        other.append((press(phone, link, other_device="y"), account_row(get_user)))

    meanwhile(monkeypatch, second_press)

    late = press(asker, link)

    [(won, row_after_win)] = other
    assert won.status_code == 302
    assert account_of(phone) == ADDRESS
    assert get_user(ADDRESS).confirmed_at is not None
    assert late.status_code == 410
    assert "no longer works" in late.get_data(as_text=True)
    assert account_of(asker) is None
    assert account_row(get_user) == row_after_win


def test_a_press_racing_logout_everywhere_is_refused(
    app, make_user, outbox, login, client, get_user, monkeypatch
):
    # Logging out everywhere (a lost phone, a shared computer) must also stop a sign-in that
    # was under way: else whoever holds the mail opens a fresh session just after it.
    make_user(ADDRESS)
    asker = app.test_client()
    ask(asker)
    login(ADDRESS)
    token = csrf_token(client.get("/profile"))
    other = []

    def logout_everywhere():
        other.append(
            (client.post("/logout-everywhere", data={"csrf_token": token}), account_row(get_user))
        )

    meanwhile(monkeypatch, logout_everywhere)

    late = press(asker, sign_in_link(outbox))

    [(logged_out, row_after_logout)] = other
    assert logged_out.status_code == 302
    assert late.status_code == 410
    assert account_of(asker) is None
    assert account_row(get_user) == row_after_logout


def test_a_press_racing_an_address_change_is_refused(
    app, make_user, outbox, login, client, get_user, monkeypatch
):
    # The link went to the old address: once the account has moved, its mailbox proves nothing.
    make_user(ADDRESS)
    asker = app.test_client()
    ask(asker)
    login(ADDRESS)
    submit(client, "/change-email", {"email": "moved@example.com", "current_password": PASSWORD})
    change = latest(outbox, "email_change", "/change-email/", to="moved@example.com")
    token = csrf_token(client.get(change))
    other = []

    def confirm_the_change():
        other.append((client.post(change, data={"csrf_token": token}), account_row(get_user)))

    meanwhile(monkeypatch, confirm_the_change)

    late = press(asker, sign_in_link(outbox))

    [(moved, row_after_move)] = other
    assert moved.status_code == 302
    assert get_user(ADDRESS) is None  # the account moved
    assert late.status_code == 410
    assert account_of(asker) is None
    assert account_row(get_user) == row_after_move


def test_a_press_racing_a_rehashing_password_login_is_refused(
    app, make_user, outbox, get_user, monkeypatch
):
    # A password login under new argon2 parameters rehashes the password and changes nothing
    # else the sign-in's WHERE reads (a login keeps the counter, the stamp and the address):
    # only the password hash in the WHERE tells the press that the account moved on.
    make_user(ADDRESS)
    with app.app_context():
        user = db.session.scalars(db.select(models.user).filter_by(email=ADDRESS)).one()
        user.password_hash = argon2.PasswordHasher(
            time_cost=2, memory_cost=2048, parallelism=1
        ).hash(PASSWORD)
        db.session.commit()
    asker = app.test_client()
    ask(asker)
    other = []

    def log_in_with_the_password():
        response = submit(app.test_client(), "/login", {"email": ADDRESS, "password": PASSWORD})
        other.append((response.status_code, account_row(get_user)))

    meanwhile(monkeypatch, log_in_with_the_password)

    late = press(asker, sign_in_link(outbox))

    [(status, row_after_login)] = other
    assert status == 302
    assert late.status_code == 410
    assert account_of(asker) is None
    assert account_row(get_user) == row_after_login


# Crossed purposes: no other link's token signs in, and a sign-in token does nothing elsewhere.


def test_a_confirmation_token_does_not_sign_in(app, client, outbox):
    register(client, ADDRESS)
    token = latest(outbox, "confirm", "/confirm/").removeprefix("/confirm/")

    assert press(client, f"/login/email/{token}").status_code == 404
    assert account_of(client) is None


def test_a_reset_token_does_not_sign_in(app, client, make_user, outbox):
    make_user(ADDRESS)
    submit(client, "/reset", {"email": ADDRESS})
    token = latest(outbox, "reset", "/reset/").removeprefix("/reset/")

    assert press(client, f"/login/email/{token}").status_code == 404
    assert account_of(client) is None


def test_a_sign_in_token_neither_confirms_nor_resets(app, client, make_user, outbox, get_user):
    make_user(ADDRESS, confirmed=False)
    ask(client)
    token = sign_in_link(outbox).removeprefix("/login/email/")

    assert press(client, f"/confirm/{token}").status_code == 404
    assert client.get(f"/reset/{token}", follow_redirects=True).status_code == 404
    assert get_user(ADDRESS).confirmed_at is None


# Forged hosts.


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}, {"X-Forwarded-Proto": "http"}],
)
@pytest.mark.parametrize("proxied", [False, True])
def test_the_mailed_link_ignores_the_requests_host(app, make_user, outbox, headers, proxied):
    if proxied:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    make_user(ADDRESS)
    client = app.test_client()

    page = client.get("/login/email", headers=headers)
    client.post(
        "/login/email",
        data={"csrf_token": csrf_token(page), "email": ADDRESS},
        headers=headers,
    )

    [mail] = outbox(ADDRESS)
    assert mail.links
    assert all(link.startswith(BASE_URL + "/") for link in mail.links)
    assert "evil.example" not in mail.text + mail.html


# An account someone else registered for the address (pre-hijacking).


def test_signing_in_to_a_pending_account_made_elsewhere_removes_its_password(app, outbox, get_user):
    attacker, owner = app.test_client(), app.test_client()
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    ask(owner)

    press(owner, sign_in_link(outbox))

    assert account_of(owner) == ADDRESS
    assert get_user(ADDRESS).password_hash is None
    assert [m.kind for m in outbox(ADDRESS)][-1] == "reset"  # to choose a password of their own
    refused = submit(app.test_client(), "/login", {"email": ADDRESS, "password": ATTACKER_PASSWORD})
    assert refused.status_code == 422


def test_signing_in_where_the_account_was_signed_up_keeps_its_password(app, outbox, get_user):
    owner = app.test_client()
    register(owner, ADDRESS, PASSWORD)
    ask(owner)

    press(owner, sign_in_link(outbox))

    assert get_user(ADDRESS).password_hash is not None
    assert (
        submit(app.test_client(), "/login", {"email": ADDRESS, "password": PASSWORD}).status_code
        == 302
    )


def test_signing_in_from_a_browser_logged_in_as_the_pending_account_keeps_its_password(
    app, outbox, get_user
):
    # A login needs the password in force, so a browser logged in as the account shows it
    # knows it as well as the sign-up receipt would (the receipt may be gone: another browser
    # profile, cleared cookies). Its owner keeps the password they use.
    register(app.test_client(), ADDRESS, PASSWORD)
    owner = app.test_client()
    assert submit(owner, "/login", {"email": ADDRESS, "password": PASSWORD}).status_code == 302
    ask(owner)

    press(owner, sign_in_link(outbox))

    assert account_of(owner) == ADDRESS
    assert get_user(ADDRESS).password_hash is not None
    assert [m.kind for m in outbox(ADDRESS)][-1] != "reset"
    assert (
        submit(app.test_client(), "/login", {"email": ADDRESS, "password": PASSWORD}).status_code
        == 302
    )


def test_signing_in_to_a_pending_account_ends_its_other_sessions(app, outbox):
    attacker, owner = app.test_client(), app.test_client()
    register(attacker, ADDRESS, ATTACKER_PASSWORD)
    submit(attacker, "/login", {"email": ADDRESS, "password": ATTACKER_PASSWORD})
    assert account_of(attacker) == ADDRESS
    ask(owner)

    press(owner, sign_in_link(outbox))

    assert account_of(attacker) is None
    assert account_of(owner) == ADDRESS


# Limits.


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_LINK_PER_ADDRESS="2 per hour")
def test_over_the_address_limit_the_answer_stays_and_no_mail_goes(app, make_user, outbox):
    make_user(ADDRESS)
    answers = [ask(app.test_client()) for _ in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 302]
    assert len({a.headers["Location"] for a in answers}) == 1
    assert len(outbox(ADDRESS)) == 2


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_LINK_PER_IP="2 per hour")
def test_requests_are_limited_per_client(app, make_user, outbox):
    client = app.test_client()
    answers = [ask(client, f"u{n}@example.com").status_code for n in range(3)]

    assert answers == [302, 302, 429]
