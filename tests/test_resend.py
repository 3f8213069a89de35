"""Resend: limited per address, says when the next is possible, one live link at a time."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from demo.models import db, models
from flask_mailproof import confirmation_sent, mark_undeliverable
from flask_mailproof.clock import utcnow
from flask_mailproof.errors import RateLimited
from flask_mailproof.flows import confirmation
from helpers import csrf_token, register, submit, without_csrf


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    return time_machine


@pytest.fixture
def registered(client, frozen, login):
    """Alice registered (one mail out) and is logged in, unconfirmed."""
    register(client)
    login("alice@example.com")
    client.get("/unconfirmed")  # drop the flash messages


def _resend(client):
    page = client.get("/unconfirmed")
    return client.post("/resend", data={"csrf_token": csrf_token(page)})


def test_resend_after_the_interval_mails_a_new_link(client, registered, frozen, outbox):
    frozen.shift(180)

    response = _resend(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/unconfirmed"
    first, second = outbox()
    assert second.kind == "confirm"
    assert second.link("/confirm/") != first.link("/confirm/")


def test_resend_within_the_interval_is_refused_with_the_wait(client, registered, frozen, outbox):
    frozen.shift(60)

    response = _resend(client)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "120"
    assert "you can ask for another in 2 minutes." in response.text
    assert len(outbox()) == 1


def test_unconfirmed_page_shows_when_the_next_resend_is_possible(client, registered, frozen):
    frozen.shift(45)

    page = client.get("/unconfirmed").text

    assert "You can ask for another link in 3 minutes (at 12:03 UTC)." in page


def test_unconfirmed_page_shows_no_wait_once_the_interval_passed(client, registered, frozen):
    frozen.shift(180)

    page = client.get("/unconfirmed").text

    assert "You can ask for another link" not in page
    assert "Send the link again" in page


def test_resend_interval_is_a_setting(config, request):
    config["MAILPROOF_RESEND_INTERVAL"] = 10
    client = request.getfixturevalue("client")
    request.getfixturevalue("registered")
    frozen = request.getfixturevalue("frozen")
    outbox = request.getfixturevalue("outbox")

    frozen.shift(10)

    assert _resend(client).status_code == 302
    assert len(outbox()) == 2


def test_earlier_link_says_a_newer_one_was_sent(client, registered, frozen, outbox, get_user):
    frozen.shift(180)
    _resend(client)
    first, _ = outbox()

    response = client.get(first.link("/confirm/"))
    posted = submit(client, first.link("/confirm/"))

    assert response.status_code == 410
    assert "A newer link was sent to you" in response.text
    assert "latest" in response.text
    assert posted.status_code == 410
    assert get_user("alice@example.com").confirmed_at is None


def test_latest_link_works_after_a_resend(client, registered, frozen, outbox, get_user):
    frozen.shift(180)
    _resend(client)

    submit(client, outbox()[-1].link("/confirm/"))

    assert get_user("alice@example.com").confirmed_at is not None


def test_resend_for_a_confirmed_user_goes_to_profile(client, make_user, login, outbox):
    make_user("bob@example.com")
    login("bob@example.com")

    page = client.get("/profile")
    response = client.post("/resend", data={"csrf_token": csrf_token(page)})

    assert response.headers["Location"] == "/profile"
    assert outbox() == []


def test_unconfirmed_page_sends_confirmed_users_to_profile(client, make_user, login):
    make_user("bob@example.com")
    login("bob@example.com")

    assert client.get("/unconfirmed").headers["Location"] == "/profile"


# Logged out: by address, with one answer for every address.


def _resend_by_address(app, address):
    client = app.test_client()
    response = submit(client, "/resend", {"email": address})
    return response, client.get(response.headers.get("Location", "/resend"))


def test_logged_out_resend_answers_the_same_for_every_address(app, make_user, frozen):
    make_user("confirmed@example.com")
    make_user("waiting@example.com", confirmed=False)
    register(app.test_client(), "limited@example.com")
    answers = []

    for address in [
        "nobody@example.com",
        "confirmed@example.com",
        "waiting@example.com",
        "limited@example.com",
    ]:
        response, page = _resend_by_address(app, address)
        answers.append(
            (response.status_code, response.headers["Location"], without_csrf(page.text))
        )

    assert answers[0][0] == 302
    assert "a new link is on its way" in answers[0][2]
    assert all(answer == answers[0] for answer in answers)


def test_logged_out_resend_mails_an_unconfirmed_account(app, make_user, outbox):
    make_user("waiting@example.com", confirmed=False)

    _resend_by_address(app, "Waiting@Example.com")

    [mail] = outbox()
    assert mail.to == "waiting@example.com"
    assert mail.kind == "confirm"


def test_logged_out_resend_signals_the_send_and_logs_the_account(app, make_user, caplog):
    # What a host and an operator see of a link sent from the logged-out form: the app's
    # confirmation_sent signal with the account, and a log line naming the account's id.
    user = make_user("waiting@example.com", confirmed=False)
    seen = []

    def receive(sender, **kwargs):
        seen.append((sender, kwargs["user"].email))

    with confirmation_sent.connected_to(receive), caplog.at_level("INFO"):
        _resend_by_address(app, "waiting@example.com")

    assert seen == [(app, "waiting@example.com")]
    assert f"confirmation mail queued for user {user.id}" in caplog.text


def test_logged_out_resend_for_an_unknown_address_leaves_the_first_account_alone(
    app, make_user, outbox
):
    # The work an unknown address does in place of a send is aimed at no account (id 0): aimed
    # at the first account, it would use up that account's resend and mail its link away.
    first = make_user("first@example.com", confirmed=False)
    assert first.id == 1

    _resend_by_address(app, "nobody@example.com")
    _resend_by_address(app, "first@example.com")

    assert [(mail.to, mail.kind) for mail in outbox()] == [("first@example.com", "confirm")]


def test_logged_out_resend_mails_nobody_for_confirmed_or_unknown(app, make_user, outbox):
    make_user("confirmed@example.com")

    _resend_by_address(app, "confirmed@example.com")
    _resend_by_address(app, "nobody@example.com")

    assert outbox() == []


def test_logged_out_resend_to_a_suppressed_address_leaves_the_mailed_link_working(
    app, client, outbox, frozen, get_user
):
    register(client, "bounced@example.com")
    link = outbox()[0].link("/confirm/")
    with app.app_context():
        mark_undeliverable("bounced@example.com", "550 mailbox full for good")
    frozen.shift(600)

    _resend_by_address(app, "bounced@example.com")
    confirmed = submit(app.test_client(), link)

    assert len(outbox()) == 1
    assert confirmed.status_code == 302
    assert get_user("bounced@example.com").confirmed_at is not None


def test_no_link_goes_to_an_account_confirmed_after_it_was_read(app, make_user, outbox):
    # Two requests: one reads the account unconfirmed, the other confirms it meanwhile.
    make_user("racing@example.com", confirmed=False)
    with app.test_request_context():
        user = db.session.scalars(select(models.user).filter_by(email="racing@example.com")).one()
        db.session.execute(
            update(models.user).where(models.user.id == user.id).values(confirmed_at=utcnow()),
            execution_options={"synchronize_session": False},  # the other request's write
        )

        with pytest.raises(RateLimited):
            confirmation._resend(user, None)
        db.session.rollback()

    assert outbox() == []


def test_logged_out_resend_is_limited_per_address(app, make_user, outbox, frozen):
    make_user("waiting@example.com", confirmed=False)

    _resend_by_address(app, "waiting@example.com")
    frozen.shift(179)
    _resend_by_address(app, "waiting@example.com")
    frozen.shift(1)
    _resend_by_address(app, "waiting@example.com")

    assert len(outbox()) == 2


def test_logged_out_resend_with_an_invalid_address_shows_the_error(client):
    response = submit(client, "/resend", {"email": "not an address"})

    assert response.status_code == 422
    assert 'class="errors"' in response.text
    assert 'value="not an address"' in response.text


def test_unconfirmed_page_names_the_address_and_offers_a_resend_button(client, registered):
    page = client.get("/unconfirmed").text

    assert "We sent a link to <strong>alice@example.com</strong>" in page
    assert '<form method="post" action="/resend">' in page
    assert "Send the link again" in page


def test_send_button_is_off_until_the_wait_is_over_and_the_page_reloads_then(
    client, registered, frozen
):
    frozen.shift(45)

    response = client.get("/unconfirmed")

    assert re.search(
        r'<button type="submit" class="primary" disabled[^>]*>Send the link', response.text
    )
    assert response.headers["Refresh"] == "135; url=/unconfirmed"
    frozen.shift(135)
    response = client.get("/unconfirmed")
    assert re.search(r'<button type="submit" class="primary">Send the link', response.text)
    assert "Refresh" not in response.headers


def test_short_waits_are_said_in_seconds(config, request):
    config["MAILPROOF_RESEND_INTERVAL"] = 50
    client = request.getfixturevalue("client")
    request.getfixturevalue("registered")
    frozen = request.getfixturevalue("frozen")
    frozen.shift(10)

    assert "You can ask for another link in 40 seconds" in client.get("/unconfirmed").text


# Right after signing up, logged out --------------------------------------------------------


def test_after_sign_up_the_page_says_check_your_inbox_once(client, frozen):
    register(client)

    page = client.get("/unconfirmed").text

    main = page[page.index("<main") : page.index("</main>")]
    assert main.count("Check your inbox") == 1
    assert 'class="flash' not in main


def test_after_sign_up_the_page_names_the_typed_address_and_fills_it_in(client, frozen):
    register(client, "Alice@Example.com")

    page = client.get("/unconfirmed").text

    assert "A mail is on its way to <strong>Alice@Example.com</strong>." in page
    assert re.search(r'<input [^>]*name="email"[^>]*value="Alice@Example.com"', page)


def test_the_address_is_named_only_to_the_browser_that_typed_it(app, client, frozen):
    register(client)
    other = app.test_client()

    page = other.get("/unconfirmed").text

    assert "alice@example.com" not in page
    assert "If you just registered, a link to confirm your address is on its way." in page
    assert "You can ask for another link" not in page


def test_after_sign_up_the_wait_is_shown_and_the_button_off(client, frozen):
    register(client)
    frozen.shift(30)

    response = client.get("/unconfirmed")

    assert "You can ask for another link in 3 minutes (at 12:03 UTC)." in response.text
    assert re.search(r'<button type="submit" disabled[^>]*>Send a new link', response.text)
    assert response.headers["Refresh"] == "150; url=/unconfirmed"


def test_after_sign_up_the_wait_is_the_same_for_a_taken_address(client, frozen, make_user):
    make_user("taken@example.com")
    register(client, "taken@example.com")
    frozen.shift(30)

    response = client.get("/unconfirmed")

    assert "A mail is on its way to <strong>taken@example.com</strong>." in response.text
    assert response.headers["Refresh"] == "150; url=/unconfirmed"


def test_asking_again_for_the_signed_up_address_restarts_the_wait(client, frozen, outbox):
    register(client)
    frozen.shift(180)
    page = client.get("/unconfirmed")
    assert re.search(r'<button type="submit">Send a new link', page.text)

    client.post("/resend", data={"csrf_token": csrf_token(page), "email": "alice@example.com"})

    assert len(outbox()) == 2
    assert client.get("/unconfirmed").headers["Refresh"] == "180; url=/unconfirmed"
