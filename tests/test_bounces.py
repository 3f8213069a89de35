"""Bounces: a permanent refusal suppresses the address, and its owner (only) is told so."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof import address_suppressed, delivery_failed, mark_undeliverable
from flask_mailproof.mail.worker import drain
from helpers import PASSWORD, csrf_token, register, submit, without_csrf
from security.test_no_enumeration import assert_same_time

BAD = "nobody@example.com"
NO_SUCH_USER = "550 5.1.1 no such user here"


def deliver(app):
    with app.app_context():
        return drain()


def suppressions(app):
    with app.app_context():
        rows = db.session.scalars(select(models.suppression)).all()
        db.session.expunge_all()
        return rows


def suppress(app, address=BAD, reason="550 no such user"):
    with app.app_context():
        mark_undeliverable(address, reason)


@pytest.fixture
def bounced(smtp, app, client, login, outbox):
    """BAD signed up in ``client`` and logged in; the server refused the confirmation at RCPT."""
    smtp.refused[BAD] = NO_SUCH_USER
    register(client, BAD)
    deliver(app)
    login(BAD)
    client.get("/unconfirmed")  # drop the flash messages
    return client


def _resend(client):
    return client.post("/resend", data={"csrf_token": csrf_token(client.get("/unconfirmed"))})


def test_a_550_at_rcpt_fails_the_mail_and_suppresses_the_address(smtp, app, client, outbox):
    smtp.refused[BAD] = NO_SUCH_USER
    register(client, BAD)

    report = deliver(app)

    [row] = suppressions(app)
    assert report.failed == 1
    assert [m.status for m in outbox()] == ["failed"]
    assert (row.email, row.reply_code, row.source) == (BAD, 550, "smtp")
    assert row.reason == "5.1.1 no such user here"
    assert smtp.attempts == []  # refused before DATA


def test_a_550_at_data_suppresses_the_address(smtp, app, client):
    smtp.replies.append("550 5.2.1 mailbox disabled")
    register(client, BAD)

    deliver(app)

    [row] = suppressions(app)
    assert (row.email, row.reply_code, row.reason) == (BAD, 550, "5.2.1 mailbox disabled")


def test_a_temporary_refusal_suppresses_nothing(smtp, app, client):
    smtp.refused[BAD] = "451 try again later"
    register(client, BAD)

    deliver(app)

    assert suppressions(app) == []


def test_a_long_hostile_reply_is_kept_short_and_on_one_line(app):
    suppress(app, reason="550 " + "\x1b[31m\r\nX-Evil: 1 " + "y" * 5000)

    [row] = suppressions(app)
    assert len(row.reason) == 500
    assert "\n" not in row.reason
    assert "\x1b" not in row.reason


def test_one_suppression_per_address_whatever_its_spelling(app):
    suppress(app, "Nobody@Example.com", "first")
    suppress(app, BAD, "second")

    [row] = suppressions(app)
    assert row.reason == "second"


def test_the_unconfirmed_page_says_mail_cannot_be_delivered_and_offers_the_fix(bounced):
    page = bounced.get("/unconfirmed")

    assert page.status_code == 200
    assert 'id="undeliverable"' in page.text
    assert "cannot be delivered" in page.text
    assert "5.1.1 no such user here" in page.text
    assert 'href="/change-email"' in page.text
    assert "Fix your address first" in page.text
    assert "Send the link again" not in page.text


def test_the_api_says_the_address_is_undeliverable(bounced):
    me = bounced.get("/api/me").get_json()

    assert me["undeliverable"]["reply_code"] == 550
    assert me["undeliverable"]["reason"] == "5.1.1 no such user here"
    assert me["undeliverable"]["since"]


def test_the_api_says_nothing_for_an_address_that_works(client, make_user, login):
    make_user("fine@example.com", confirmed=False)
    login("fine@example.com")

    assert client.get("/api/me").get_json()["undeliverable"] is None


def test_resend_to_a_suppressed_address_writes_nothing_and_says_why(bounced, outbox):
    before = len(outbox())

    response = _resend(bounced)

    assert response.status_code == 409
    assert "Fix your address first" in response.text
    assert len(outbox()) == before


def test_the_api_resend_answers_409_and_writes_nothing(bounced, outbox):
    before = len(outbox())
    token = bounced.get("/api/csrf").get_json()["csrf_token"]

    response = bounced.post("/api/resend", json={}, headers={"X-CSRFToken": token})

    assert response.status_code == 409
    assert response.get_json()["code"] == "address_undeliverable"
    assert len(outbox()) == before


def test_the_browser_that_signed_up_sees_its_own_bounce(smtp, app, client):
    smtp.refused[BAD] = NO_SUCH_USER
    register(client, BAD)
    deliver(app)

    page = client.get("/unconfirmed")

    assert 'id="undeliverable"' in page.text
    assert BAD in page.text
    assert "Send a new link" not in page.text


def test_a_bounce_from_before_is_not_shown_to_a_browser_that_types_the_address(
    app, make_user, outbox
):
    suppress(app)
    stranger, control = app.test_client(), app.test_client()

    register(stranger, BAD)
    register(control, "unknown@example.com")
    pages = [without_csrf(c.get("/unconfirmed").text) for c in (stranger, control)]

    assert "undeliverable" not in pages[0]
    assert pages[0].replace(BAD, "X") == pages[1].replace("unknown@example.com", "X")
    assert [m.to for m in outbox()] == ["unknown@example.com"]


def test_logged_out_resend_answers_alike_for_suppressed_and_unknown_addresses(
    app, make_user, outbox
):
    make_user(BAD, confirmed=False)
    suppress(app)
    answers = []

    for address in [BAD, "unknown@example.com"]:
        client = app.test_client()
        response = submit(client, "/resend", {"email": address})
        page = client.get(response.headers["Location"])
        answers.append(
            (response.status_code, response.headers["Location"], without_csrf(page.text))
        )

    assert answers[0] == answers[1]
    assert outbox() == []


def test_a_reset_for_a_suppressed_address_writes_no_mail_and_answers_alike(app, make_user, outbox):
    make_user(BAD)
    suppress(app)
    answers = []

    for address in [BAD, "unknown@example.com"]:
        client = app.test_client()
        response = submit(client, "/reset", {"email": address})
        answers.append((response.status_code, response.headers.get("Location")))

    assert answers[0] == answers[1]
    assert outbox() == []


def test_a_contact_verification_to_a_suppressed_address_is_not_written(app, outbox):
    suppress(app)

    response = submit(
        app.test_client(), "/contact", {"name": "N", "email": BAD, "message": "Hello there"}
    )

    assert response.status_code == 302
    assert outbox() == []


def test_the_contact_sent_page_tells_the_sender_of_the_bounce(smtp, app, client):
    smtp.refused[BAD] = NO_SUCH_USER
    submit(client, "/contact", {"name": "N", "email": BAD, "message": "Hello there"})
    before = client.get("/contact/sent")
    deliver(app)

    after = client.get("/contact/sent")
    other = app.test_client().get("/contact/sent")

    assert "undeliverable" not in before.text
    assert 'id="undeliverable"' in after.text
    assert "5.1.1 no such user here" in after.text
    assert "undeliverable" not in other.text


def test_confirming_the_address_lifts_its_suppression(app, client, outbox):
    register(client, BAD)
    link = outbox()[0].link("/confirm/")
    suppress(app)  # a late bounce report, wrong: the mailbox works

    submit(client, link)

    assert suppressions(app) == []


def test_changing_the_address_leaves_the_bounce_behind(bounced, app, outbox, get_user):
    response = submit(
        bounced, "/change-email", {"email": "right@example.com", "current_password": PASSWORD}
    )
    [mail] = outbox("right@example.com")
    submit(bounced, mail.link("/change-email/"))

    assert response.status_code == 302
    assert get_user("right@example.com").is_confirmed
    assert bounced.get("/api/me").get_json()["undeliverable"] is None
    assert [row.email for row in suppressions(app)] == [BAD]  # it still refuses mail


@pytest.mark.app_config(MAILPROOF_RESEND_INTERVAL=0)
def test_the_cli_lists_and_clears_a_suppression(bounced, app, outbox):
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["mailproof", "suppressed", "list"])
    cleared = runner.invoke(args=["mailproof", "suppressed", "clear", "NOBODY@example.com"])
    again = runner.invoke(args=["mailproof", "suppressed", "clear", BAD])
    before = len(outbox())
    resent = _resend(bounced)

    assert listed.exit_code == 0, listed.output
    assert f"smtp     550   {BAD}: 5.1.1 no such user here" in listed.output
    assert "1 suppressed address(es)" in listed.output
    assert "no longer suppressed" in cleared.output
    assert again.exit_code == 1
    assert "not on the suppression list" in again.output
    assert resent.status_code == 302
    assert len(outbox()) == before + 1


def test_the_cli_lists_the_newest_suppression_first(app, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    with app.app_context():
        mark_undeliverable("older@example.com", "550 gone")
        time_machine.move_to("2026-06-01 13:00:00", tick=False)
        mark_undeliverable("same-time-first@example.com", "550 gone")
        mark_undeliverable("same-time-second@example.com", "550 gone")

    listed = app.test_cli_runner().invoke(args=["mailproof", "suppressed", "list"])

    assert [line.split()[4].rstrip(":") for line in listed.output.splitlines()[1:-1]] == [
        "same-time-second@example.com",
        "same-time-first@example.com",
        "older@example.com",
    ]


def test_the_cli_lists_a_renewed_suppression_as_the_newest(app, time_machine):
    # A second refusal renews the address's one entry (its row, and id, stay the same): the
    # list follows the time of the latest refusal, not the order the entries were made in.
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    with app.app_context():
        mark_undeliverable("refused-again@example.com", "550 gone")
        time_machine.move_to("2026-06-01 13:00:00", tick=False)
        mark_undeliverable("refused-once@example.com", "550 gone")
        time_machine.move_to("2026-06-01 14:00:00", tick=False)
        mark_undeliverable("refused-again@example.com", "550 still gone")

    listed = app.test_cli_runner().invoke(args=["mailproof", "suppressed", "list"])

    assert [line.split()[4].rstrip(":") for line in listed.output.splitlines()[1:-1]] == [
        "refused-again@example.com",
        "refused-once@example.com",
    ]


def test_the_signals_go_out_after_the_commit(smtp, app, client):
    smtp.refused[BAD] = NO_SUCH_USER
    register(client, BAD)
    failed, suppressed = [], []

    def on_failed(sender, message, permanent):
        with app.app_context():
            status = db.session.get(models.outbox, message.id).status
        failed.append((message.recipient, permanent, status))

    def on_suppressed(sender, address, reason):
        suppressed.append((address, reason, len(suppressions(app))))

    with (
        delivery_failed.connected_to(on_failed, app),
        address_suppressed.connected_to(on_suppressed, app),
    ):
        deliver(app)

    assert failed == [(BAD, True, "failed")]
    assert suppressed == [(BAD, "5.1.1 no such user here", 1)]


def test_a_temporary_bounce_report_suppresses_nothing(app):
    with app.app_context():
        assert mark_undeliverable(BAD, "mailbox full", permanent=False) is False

    assert suppressions(app) == []


@pytest.mark.app_config(RATELIMIT_ENABLED=False)
def test_logged_out_resend_takes_as_long_for_a_suppressed_address_as_for_an_unknown_one(
    app, make_user
):
    make_user(BAD, confirmed=False)
    suppress(app)

    assert_same_time(
        app,
        "/resend",
        {
            "suppressed": lambda n: {"email": BAD},
            "unknown": lambda n: {"email": "unknown@example.com"},
        },
    )


def test_renewing_an_expired_link_of_a_suppressed_address_writes_nothing(
    app, client, outbox, time_machine
):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    register(client, BAD)
    link = outbox()[0].link("/confirm/")
    suppress(app)
    time_machine.shift(86400 + 1)

    page = client.get(link)
    response = client.post(f"{link}/renew", data={"csrf_token": csrf_token(page)})
    shown = client.get("/unconfirmed")

    assert page.status_code == 410
    assert response.headers["Location"] == "/unconfirmed"
    assert "Fix your address first" in shown.text
    assert len(outbox()) == 1


def test_the_notice_speaks_german_to_a_german_browser(bounced):
    page = bounced.get("/unconfirmed", headers={"Accept-Language": "de"})

    assert "können nicht zugestellt werden" in page.text
    assert "Korrigieren Sie zuerst Ihre Adresse" in page.text
