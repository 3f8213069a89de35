"""Password reset: the request, the link, its single use, and no account enumeration."""

from __future__ import annotations

import re
import socket
import threading

import pytest
import time_machine
from aiosmtpd.controller import Controller

from flask_mailproof import signals
from flask_mailproof.clock import utcnow
from flask_mailproof.flows import accounts
from flask_mailproof.mail.delivery import deliver_pending
from flask_mailproof.passwords import Passwords
from flask_mailproof.state import current_state
from flask_mailproof.tokens import Purpose, digest
from helpers import BASE_URL, PASSWORD, csrf_token, parse_mail, submit, without_csrf

NEW_PASSWORD = "violet submarine orchestra pebble"
FORM_URL = "/reset/set-password"


def request_reset(client, email):
    return submit(client, "/reset", {"email": email})


def reset_link(outbox, to):
    [mail] = [m for m in outbox(to) if m.kind == "reset"][-1:]
    return mail.link("/reset/")


def set_password(client, link, password=NEW_PASSWORD, **extra):
    """Open ``link`` as a browser does (following the redirect) and submit the form."""
    form = client.get(link, follow_redirects=True)
    data = {"csrf_token": csrf_token(form), "password": password, "password_confirm": password}
    return client.post(FORM_URL, data={**data, **extra})


def issue(app, purpose, payload):
    with app.app_context():
        return current_state().tokens.issue(purpose, payload)


def test_request_mails_link_to_the_stored_address(client, make_user, outbox):
    make_user("Mike@example.com")

    response = request_reset(client, "mike@EXAMPLE.com")

    assert response.status_code == 302
    [mail] = outbox()
    assert mail.to == "Mike@example.com"
    assert mail.kind == "reset"
    assert mail.link("/reset/")
    assert "1 hour" in mail.text


def test_request_for_unknown_address_sends_nothing(client, outbox):
    response = request_reset(client, "nobody@example.com")

    assert response.status_code == 302
    assert outbox() == []


def test_dotless_i_never_reaches_the_dotted_account(client, make_user, outbox):
    make_user("mike@example.com")

    response = request_reset(client, "m\u0131ke@example.com")

    assert response.status_code == 302
    assert outbox() == []


def _cookie_shapes(response):
    # Values differ by their signature's timestamp only; names and attributes must not.
    return sorted(
        re.sub(r"^([^=]+)=[^;]*", r"\1=", c) for c in response.headers.getlist("Set-Cookie")
    )


def _answer(app, email):
    client = app.test_client()
    response = request_reset(client, email)
    headers = sorted((k, v) for k, v in response.headers.items() if k != "Set-Cookie")
    follow = client.get(response.headers["Location"])
    return (
        response.status_code,
        headers,
        _cookie_shapes(response),
        response.get_data(as_text=True),
        follow.status_code,
        without_csrf(follow.get_data(as_text=True)),
    )


def test_known_unknown_and_unconfirmed_addresses_get_the_same_answer(app, make_user, outbox):
    make_user("known@example.com")
    make_user("waiting@example.com", confirmed=False)

    known = _answer(app, "known@example.com")
    unknown = _answer(app, "unknown@example.com")
    unconfirmed = _answer(app, "waiting@example.com")

    assert known == unknown == unconfirmed
    assert [m.to for m in outbox()] == ["known@example.com", "waiting@example.com"]


def test_unknown_address_leaves_no_outbox_row(app, client):
    request_reset(client, "unknown@example.com")

    with app.app_context():
        model = current_state().models.outbox
        assert current_state().db.session.query(model).count() == 0


@pytest.fixture
def notify_unknown(config):
    config["MAILPROOF_RESET_NOTIFY_UNKNOWN"] = True


def test_unknown_address_is_told_when_the_setting_is_on(notify_unknown, client, outbox):
    request_reset(client, "Unknown@Example.com")

    [mail] = outbox()
    assert mail.to == "Unknown@example.com"
    assert mail.kind == "reset_unknown"
    assert not [link for link in mail.links if "/reset/" in link]


def test_the_notice_to_an_unknown_address_names_it_and_links_to_registration(
    notify_unknown, client, outbox
):
    # The notice is what tells its reader what happened and what to do: which address was
    # asked for (they may hold several), and where to create the account they meant to have.
    request_reset(client, "Unknown@Example.com")

    [mail] = outbox()
    for body in (mail.text, mail.html):
        assert "Unknown@example.com" in body
        assert f"{BASE_URL}/register" in body


def test_opening_the_link_moves_the_token_out_of_the_url(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    token = link.rsplit("/", 1)[1]

    opened = client.get(link)
    form = client.get(opened.headers["Location"])

    assert opened.status_code == 302
    assert opened.headers["Location"] == FORM_URL
    assert opened.headers["Referrer-Policy"] == "same-origin"
    assert form.status_code == 200
    assert form.headers["Referrer-Policy"] == "same-origin"
    assert token not in form.get_data(as_text=True)
    assert 'name="password"' in form.get_data(as_text=True)


def test_form_without_a_token_in_the_session_is_refused(client):
    response = client.get(FORM_URL)

    assert response.status_code == 404
    assert "/reset" in response.get_data(as_text=True)


def test_reset_sets_the_password_and_logs_nobody_in(client, make_user, outbox, login):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")

    response = set_password(client, reset_link(outbox, "alice@example.com"))

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/profile").status_code == 302
    assert (
        submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD}).status_code
        == 422
    )
    login("alice@example.com", NEW_PASSWORD)


def test_reset_mails_a_notice_without_the_password(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")

    set_password(client, reset_link(outbox, "alice@example.com"))

    notice = outbox()[-1]
    assert notice.kind == "password_changed"
    assert notice.to == "alice@example.com"
    assert NEW_PASSWORD not in notice.text + notice.html


def test_opening_the_link_uses_nothing_up(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    client.get(link, follow_redirects=True)
    client.head(link)
    client.get(link, follow_redirects=True)

    assert set_password(client, link).status_code == 302


def test_a_direct_post_to_the_link_sets_the_password(client, make_user, outbox, login):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    token = csrf_token(client.get("/reset"))

    response = client.post(
        link, data={"csrf_token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )

    assert response.status_code == 302
    login("alice@example.com", NEW_PASSWORD)


def test_reset_ends_every_session_and_remember_me(app, client, make_user, outbox, login):
    make_user("alice@example.com")
    login("alice@example.com", remember="y")
    client.delete_cookie("session")
    assert client.get("/profile").status_code == 200  # back in through remember-me
    other = app.test_client()
    request_reset(other, "alice@example.com")

    set_password(other, reset_link(outbox, "alice@example.com"))

    client.delete_cookie("session")
    assert client.get("/profile").status_code == 302


def test_the_account_comes_from_the_token_not_the_form(client, make_user, outbox, get_user):
    make_user("alice@example.com")
    bob = make_user("bob@example.com")
    request_reset(client, "alice@example.com")

    set_password(
        client, reset_link(outbox, "alice@example.com"), email="bob@example.com", user_id=bob.id
    )

    assert get_user("bob@example.com").password_hash == bob.password_hash
    assert get_user("alice@example.com").password_hash != bob.password_hash


def test_weak_password_is_refused_and_the_link_still_works(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")

    weak = set_password(client, link, password="password")

    assert weak.status_code == 422
    assert set_password(client, link).status_code == 302


def test_a_used_link_is_refused_with_a_way_to_a_new_one(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    set_password(client, link)

    again = client.get(link, follow_redirects=True)

    assert again.status_code == 410
    assert "was used" in again.get_data(as_text=True)
    assert 'href="/reset"' in again.get_data(as_text=True)


def test_an_older_link_says_a_newer_one_was_sent(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    older = reset_link(outbox, "alice@example.com")
    request_reset(client, "alice@example.com")

    response = client.get(older, follow_redirects=True)

    assert response.status_code == 410
    assert "newer link" in response.get_data(as_text=True)
    assert 'href="/reset"' in response.get_data(as_text=True)


def test_an_older_link_is_dead_after_a_newer_one_was_used(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    older = reset_link(outbox, "alice@example.com")
    request_reset(client, "alice@example.com")
    set_password(client, reset_link(outbox, "alice@example.com"))

    response = client.get(older, follow_redirects=True)

    assert response.status_code == 410


def test_a_login_kills_the_link(app, client, make_user, outbox, login):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")

    login("alice@example.com")

    assert app.test_client().get(link, follow_redirects=True).status_code == 410


def test_a_password_change_kills_the_link(app, client, make_user, outbox):
    alice = make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    with app.app_context():
        user = current_state().db.session.get(current_state().models.user, alice.id)
        user.password_hash = current_state().passwords.hash(NEW_PASSWORD)
        current_state().db.session.commit()

    assert client.get(link, follow_redirects=True).status_code == 410


def test_an_address_change_kills_the_link(app, client, make_user, outbox):
    alice = make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    with app.app_context():
        user = current_state().db.session.get(current_state().models.user, alice.id)
        user.email, user.email_key = "alicia@example.com", "alicia@example.com"
        current_state().db.session.commit()

    assert client.get(link, follow_redirects=True).status_code == 410


def test_an_expired_link_is_refused(client, make_user, outbox):
    make_user("alice@example.com")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        request_reset(client, "alice@example.com")
        link = reset_link(outbox, "alice@example.com")
        traveller.shift(3601)

        response = client.get(link, follow_redirects=True)

    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_a_link_inside_its_lifetime_works(client, make_user, outbox):
    make_user("alice@example.com")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        request_reset(client, "alice@example.com")
        link = reset_link(outbox, "alice@example.com")
        traveller.shift(3590)

        assert set_password(client, link).status_code == 302


def test_a_tampered_link_is_refused(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    assert client.get(tampered, follow_redirects=True).status_code == 404


@pytest.mark.parametrize(
    "purpose", [Purpose.CONFIRM, Purpose.CONTACT, Purpose.EMAIL_CHANGE, Purpose.EMAIL_REVERT]
)
def test_tokens_of_other_purposes_are_refused(app, client, make_user, purpose):
    user = make_user("alice@example.com")
    # Shaped like a reset token, valid in every way but its purpose.
    bound = digest(user.password_hash, user.email_key, user.last_login_at)
    token = issue(app, purpose, {"u": user.id, "n": 0, "b": bound})

    assert client.get(f"/reset/{token}", follow_redirects=True).status_code == 404


def test_a_registration_confirmation_link_is_refused(client, outbox):
    submit(
        client,
        "/register",
        {"email": "new@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    token = outbox()[0].link("/confirm/").rsplit("/", 1)[1]

    assert client.get(f"/reset/{token}", follow_redirects=True).status_code == 404


def test_a_reset_token_is_refused_elsewhere(client, make_user, outbox):
    make_user("alice@example.com")
    request_reset(client, "alice@example.com")
    token = reset_link(outbox, "alice@example.com").rsplit("/", 1)[1]

    assert client.get(f"/confirm/{token}").status_code == 404
    assert client.get(f"/change-email/{token}").status_code == 404
    assert client.get(f"/change-email/undo/{token}").status_code == 404


def test_an_unconfirmed_users_reset_confirms_the_address(client, make_user, outbox, get_user):
    make_user("waiting@example.com", confirmed=False)
    request_reset(client, "waiting@example.com")

    set_password(client, reset_link(outbox, "waiting@example.com"))

    assert get_user("waiting@example.com").confirmed_at is not None


def test_two_concurrent_resets_with_one_link_succeed_once(app, make_user, outbox, monkeypatch):
    make_user("alice@example.com")
    first, second = app.test_client(), app.test_client()
    request_reset(first, "alice@example.com")
    link = reset_link(outbox, "alice@example.com")
    forms = [c.get(link, follow_redirects=True) for c in (first, second)]
    both_checked = threading.Barrier(2, timeout=10)
    original_hash = Passwords.hash

    def hash_after_both_checked(self, password):
        # Both requests have read and checked the token before either writes.
        both_checked.wait()
        return original_hash(self, password)

    monkeypatch.setattr(Passwords, "hash", hash_after_both_checked)
    statuses = []

    def post(client, form, password):
        data = {"csrf_token": csrf_token(form), "password": password, "password_confirm": password}
        statuses.append(client.post(FORM_URL, data=data).status_code)

    threads = [
        threading.Thread(target=post, args=(first, forms[0], NEW_PASSWORD)),
        threading.Thread(target=post, args=(second, forms[1], "another fine horse battery")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [302, 410]
    assert [m.kind for m in outbox()].count("password_changed") == 1


def test_signals_name_the_account(app, client, make_user, outbox):
    make_user("alice@example.com")
    seen = []
    with (
        signals.reset_requested.connected_to(
            lambda sender, **kw: seen.append(
                ("requested", kw["user"] and kw["user"].email, kw["email"])
            )
        ),
        signals.password_reset.connected_to(
            lambda sender, **kw: seen.append(("reset", kw["user"].email, None))
        ),
    ):
        request_reset(client, "alice@example.com")
        request_reset(client, "nobody@example.com")
        set_password(client, reset_link(outbox, "alice@example.com"))

    assert seen == [
        ("requested", "alice@example.com", "alice@example.com"),
        ("requested", None, "nobody@example.com"),
        ("reset", "alice@example.com", None),
    ]


def test_pages_link_to_the_reset(client):
    assert 'href="/reset"' in client.get("/login").get_data(as_text=True)


def test_a_loose_database_match_is_not_trusted(client, make_user, outbox, monkeypatch):
    # What MariaDB's *_ci collations do: a dotless i compares equal to an i.
    make_user("mike@example.com")
    real_lookup = accounts._user_with_key
    monkeypatch.setattr(
        accounts, "_user_with_key", lambda key: real_lookup(key.replace("\u0131", "i"))
    )

    request_reset(client, "m\u0131ke@example.com")

    assert outbox() == []


@pytest.fixture
def smtp_server(config):
    """A real SMTP server on 127.0.0.1 that keeps what it receives; ask for it before ``app``."""
    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield received
    controller.stop()


def test_a_reset_over_real_smtp(smtp_server, app, client, make_user, login):
    make_user("Alice@example.com")
    request_reset(client, "alice@example.com")
    with app.app_context():
        state = current_state()
        deliver_pending(state.db.session, state.models.outbox, state.transport, state.settings)

    [envelope] = smtp_server
    mail = parse_mail(envelope.content.decode("ascii"))
    assert envelope.rcpt_tos == ["Alice@example.com"]
    assert set_password(client, mail.link("/reset/")).status_code == 302
    login("alice@example.com", NEW_PASSWORD)


def test_only_an_unconfirmed_accounts_reset_signals_a_confirmation(app, client, make_user, outbox):
    # Hosts welcome new addresses and count confirmations on email_confirmed: a reset proves
    # the mailbox, but an address confirmed already must not be announced a second time.
    make_user("alice@example.com")
    make_user("waiting@example.com", confirmed=False)
    confirmed = []
    with signals.email_confirmed.connected_to(
        lambda sender, **kw: confirmed.append(kw["user"].email)
    ):
        for address in ("alice@example.com", "waiting@example.com"):
            request_reset(client, address)
            set_password(client, reset_link(outbox, address))

    assert confirmed == ["waiting@example.com"]
