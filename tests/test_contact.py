"""The contact form: messages held until their sender proves the address, released once."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
import time_machine
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof import ConfigurationError, Settings, contact_verified
from flask_mailproof.flows import contact as contact_flow
from flask_mailproof.flows.contact_admin import purge_contact_messages
from flask_mailproof.state import current_state
from flask_mailproof.tokens import Purpose
from helpers import BASE_URL, csrf_token, parse_mail, submit

# The per-address cap on pending messages is tested here; the per-address rate limit on
# verification mails, a separate defence, has its own tests in tests/security.
pytestmark = pytest.mark.app_config(MAILPROOF_LIMIT_CONTACT_PER_ADDRESS="")

SENDER = "ada@example.com"
OWNER = "owner@localhost"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def send(client, name="Ada Lovelace", email=SENDER, message="Hello, I have a question."):
    return submit(client, "/contact", {"name": name, "email": email, "message": message})


def verify_link(outbox, to=SENDER):
    [mail] = [m for m in outbox(to) if m.kind == "contact_verify"]
    return mail.link("/contact/verify/")


def owner_mails(outbox):
    return [m for m in outbox(OWNER) if m.kind == "contact_delivery"]


@pytest.fixture
def config(config, request):
    """The suite's configuration, plus the settings a test passes by indirect parametrization."""
    config.update(getattr(request, "param", {}))
    return config


@pytest.fixture
def stored(app):
    """Return a function listing the stored contact messages, oldest first, detached."""

    def read():
        with app.app_context():
            rows = db.session.scalars(select(models.contact_message).order_by("id")).all()
            db.session.expunge_all()
            return rows

    return read


# The round trip.


def test_submit_holds_message_and_mails_sender_a_link(client, outbox, stored):
    response = send(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/contact/sent"
    [row] = stored()
    assert (row.status, row.email, row.name) == ("pending", SENDER, "Ada Lovelace")
    [mail] = outbox()
    assert mail.to == SENDER
    assert mail.kind == "contact_verify"
    assert all(link.startswith(BASE_URL + "/") for link in mail.links)
    assert "15 minutes" in mail.text


def test_sent_page_says_check_your_inbox(client):
    response = send(client, email="Ada@Example.com")
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "Check your inbox" in page
    assert "Ada@example.com" in page


def test_verification_mail_carries_neither_name_nor_message(client, outbox):
    send(client, name="Zebulon Quarterstaff", message="A secret only the sender should see")
    [mail] = outbox()

    for part in (mail.subject, mail.text, mail.html):
        assert "Zebulon" not in part
        assert "secret only" not in part
    assert "ignore this mail" in mail.text


def test_get_on_the_link_shows_a_button_and_changes_nothing(client, outbox, stored):
    send(client)
    link = verify_link(outbox)

    response = client.get(link)
    head = client.head(link)

    assert response.status_code == 200
    assert f'action="{link}"' in response.get_data(as_text=True)
    assert head.status_code == 200
    assert stored()[0].status == "pending"
    assert owner_mails(outbox) == []


def test_button_delivers_message_to_recipient_with_reply_to(client, outbox, stored):
    send(client, message="Line one.\r\nLine two.")

    response = submit(client, verify_link(outbox))

    assert response.status_code == 302
    assert response.headers["Location"] == "/contact/received"
    assert "we received your message" in client.get("/contact/received").get_data(as_text=True)
    [mail] = owner_mails(outbox)
    assert mail.headers["Reply-To"] == SENDER
    assert "Ada Lovelace" in mail.text
    assert "Line one.\r\nLine two." in mail.text
    [row] = stored()
    assert row.status == "delivered"
    assert row.created_at <= row.verified_at == row.delivered_at


def test_second_click_says_already_received(client, outbox):
    send(client)
    link = verify_link(outbox)
    token = csrf_token(client.get(link))
    client.post(link, data={"csrf_token": token})

    again = client.post(link, data={"csrf_token": token})

    assert again.status_code == 200
    assert "received this message already" in again.get_data(as_text=True)
    assert len(owner_mails(outbox)) == 1


def test_link_opened_after_release_says_already_received(client, outbox):
    send(client)
    link = verify_link(outbox)
    submit(client, link)

    response = client.get(link)

    assert "received this message already" in response.get_data(as_text=True)


def test_a_released_messages_link_says_received_even_once_expired(client, outbox):
    with time_machine.travel(START, tick=False) as traveller:
        send(client)
        link = verify_link(outbox)
        submit(client, link)
        send(client, email="late@example.com")
        traveller.shift(901)

        released = client.get(link)
        never_released = client.get(verify_link(outbox, "late@example.com"))

    assert "received this message already" in released.get_data(as_text=True)
    assert never_released.status_code == 410
    assert "received this message already" not in never_released.get_data(as_text=True)


def test_concurrent_posts_release_the_message_once(app, client, outbox, stored, monkeypatch):
    send(client)
    link = verify_link(outbox)
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_token(c.get(link)) for c in clients]
    # Both requests pass the check before either updates: the race a double click makes.
    barrier = threading.Barrier(2, timeout=10)
    check = contact_flow.check_contact_token

    def check_then_wait(token):
        row = check(token)
        barrier.wait()
        return row

    monkeypatch.setattr(contact_flow, "check_contact_token", check_then_wait)
    responses = {}

    def post(i):
        responses[i] = clients[i].post(link, data={"csrf_token": tokens[i]})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.status_code for r in responses.values()) == [200, 302]
    assert len(owner_mails(outbox)) == 1
    assert stored()[0].status == "delivered"


def test_contact_verified_signal_carries_the_message(app, client, outbox):
    received = []

    def listener(sender, contact_message):
        received.append((sender, contact_message.id, contact_message.status))

    send(client)
    with contact_verified.connected_to(listener, app):
        submit(client, verify_link(outbox))

    assert received == [(app, 1, "delivered")]


@pytest.mark.parametrize("config", [{"MAILPROOF_CONTACT_RECIPIENT": None}], indirect=True)
def test_without_recipient_message_is_kept_signalled_and_logged(
    app, client, outbox, stored, caplog
):
    received = []

    def listener(sender, contact_message):
        received.append(contact_message.status)

    send(client)
    with contact_verified.connected_to(listener, app), caplog.at_level(logging.WARNING):
        response = submit(client, verify_link(outbox))

    assert response.headers["Location"] == "/contact/received"
    assert [m.kind for m in outbox()] == ["contact_verify"]
    [row] = stored()
    assert (row.status, row.delivered_at) == ("verified", None)
    assert row.verified_at is not None
    assert received == ["verified"]
    assert "MAILPROOF_CONTACT_RECIPIENT is not set" in caplog.text


# Expiry and foreign tokens.


def test_expired_link_says_so_offers_the_form_and_delivers_nothing(client, outbox, stored):
    with time_machine.travel(START, tick=False) as traveller:
        send(client)
        link = verify_link(outbox)
        token = csrf_token(client.get(link))
        traveller.shift(901)

        shown = client.get(link)
        pressed = client.post(link, data={"csrf_token": token})

    assert shown.status_code == pressed.status_code == 410
    assert 'href="/contact"' in shown.get_data(as_text=True)
    assert "was not sent" in pressed.get_data(as_text=True)
    assert stored()[0].status == "pending"
    assert owner_mails(outbox) == []


def test_link_still_works_just_before_expiry(client, outbox):
    with time_machine.travel(START, tick=False) as traveller:
        send(client)
        link = verify_link(outbox)
        traveller.shift(899)

        response = submit(client, link)

    assert response.status_code == 302
    assert len(owner_mails(outbox)) == 1


def _issue(app, purpose, payload):
    with app.app_context():
        return current_state().tokens.issue(purpose, payload)


def _payload(app, token):
    with app.app_context():
        return current_state().tokens.read(Purpose.CONTACT, token, 900)


def test_token_naming_another_message_is_refused(app, client, outbox, stored):
    send(client)
    send(client, email="bob@example.com")
    first = verify_link(outbox).rsplit("/", 1)[1]
    payload = _payload(app, first)
    forged = _issue(app, Purpose.CONTACT, {**payload, "m": stored()[1].id})

    shown = client.get(f"/contact/verify/{forged}")
    token = csrf_token(client.get("/contact"))
    pressed = client.post(f"/contact/verify/{forged}", data={"csrf_token": token})

    assert shown.status_code == 404
    assert pressed.status_code == 404
    assert [r.status for r in stored()] == ["pending", "pending"]


def test_an_expired_link_of_another_shape_says_it_expired(app, client, stored):
    # A link mailed by an older release (here without the binding) is ours and signed: once
    # expired, it is answered as any expired link, not with an error page.
    with time_machine.travel(START, tick=False) as traveller:
        send(client)
        old_shape = _issue(app, Purpose.CONTACT, {"m": stored()[0].id})
        traveller.shift(901)

        response = client.get(f"/contact/verify/{old_shape}")

    assert response.status_code == 410
    assert stored()[0].status == "pending"


def test_token_of_another_purpose_is_refused(app, client, outbox, stored):
    send(client)
    payload = _payload(app, verify_link(outbox).rsplit("/", 1)[1])
    confirm_token = _issue(app, Purpose.CONFIRM, payload)

    response = client.get(f"/contact/verify/{confirm_token}")

    assert response.status_code == 404
    assert stored()[0].status == "pending"


def test_contact_token_does_not_confirm_an_account(client, outbox, make_user):
    make_user("ada@example.com", confirmed=False)
    send(client)
    token = verify_link(outbox).rsplit("/", 1)[1]

    assert client.get(f"/confirm/{token}").status_code == 404


def test_each_pending_message_has_its_own_link(client, outbox, stored):
    send(client, message="first")
    send(client, message="second")
    first_link, second_link = (m.link("/contact/verify/") for m in outbox())

    submit(client, second_link)

    assert first_link != second_link
    assert [(r.message, r.status) for r in stored()] == [
        ("first", "pending"),
        ("second", "delivered"),
    ]
    assert "second" in owner_mails(outbox)[0].text


def test_junk_token_is_refused(client):
    assert client.get("/contact/verify/not-a-token").status_code == 404


# What the sender typed never reaches a header.

INJECTION = "Eve\r\nBcc: victim@example.net\r\nSubject: pwned <b>bold</b><script>x()</script>"


def _header_block(raw):
    return raw.replace("\r\n", "\n").split("\n\n", 1)[0]


@pytest.mark.parametrize("field", ["name", "message"])
def test_typed_line_breaks_and_html_stay_in_the_body(app, client, outbox, field):
    fields = {"name": "Ada", "message": "Hello", field: INJECTION}
    send(client, **fields)
    submit(client, verify_link(outbox))

    with app.app_context():
        rows = db.session.scalars(select(models.outbox).order_by(models.outbox.id)).all()
        raws = {row.kind: row.raw for row in rows}
    for raw in raws.values():
        headers = _header_block(raw)
        assert "victim@example.net" not in headers
        assert "pwned" not in headers
        assert "Bcc" not in headers
    mail = parse_mail(raws["contact_delivery"])
    assert mail.subject == f"Contact form: message 1 from {SENDER}"
    assert mail.headers["Reply-To"] == SENDER
    assert "Bcc: victim@example.net\r\nSubject: pwned <b>bold</b><script>x()</script>" in mail.text
    assert "&lt;script&gt;x()&lt;/script&gt;" in mail.html
    assert "<script>" not in mail.html
    assert "<b>bold" not in mail.html


def test_address_with_a_line_break_is_refused(client, outbox, stored):
    response = send(client, email="ada@example.com\r\nBcc: victim@example.net")

    assert response.status_code == 422
    assert stored() == []
    assert outbox() == []


@pytest.mark.parametrize("field", ["name", "message"])
def test_control_characters_are_refused(client, stored, field):
    fields = {"name": "Ada", "message": "Hello", field: "bell\x07 and nul\x00"}

    response = send(client, **fields)

    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)
    assert stored() == []


# Lengths: at the limit accepted, past it refused, never cut.


@pytest.mark.parametrize(("field", "limit"), [("name", 100), ("message", 5000)])
def test_text_at_the_limit_is_kept_whole(client, stored, field, limit):
    fields = {"name": "Ada", "message": "Hello", field: "x" * limit}

    assert send(client, **fields).status_code == 302
    assert getattr(stored()[0], field) == "x" * limit


@pytest.mark.parametrize(("field", "limit"), [("name", 100), ("message", 5000)])
def test_text_past_the_limit_is_a_form_error(client, stored, outbox, field, limit):
    fields = {"name": "Ada", "message": "Hello", field: "x" * (limit + 1)}

    response = send(client, **fields)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Use at most {limit:,} characters; this has {limit + 1:,}." in body
    assert "x" * (limit + 1) in body  # what was typed is given back, not cut
    assert stored() == []
    assert outbox() == []


def test_line_breaks_count_one_character(client, stored):
    # 5,000 characters in the sender's textarea; browsers send each line break as CR LF.
    message = "\r\n".join(["abcd"] * 1000) + "z"
    assert len(message) == 5999

    assert send(client, message=message).status_code == 302
    assert len(stored()[0].message) == 5000


def test_address_past_254_characters_is_a_form_error(client, stored):
    address = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 58]) + ".com"
    assert len(address) == 255

    response = send(client, email=address)

    assert response.status_code == 422
    assert "at most 254 characters" in response.get_data(as_text=True)
    assert stored() == []


def test_empty_fields_are_form_errors(client, stored):
    response = send(client, name=" ", message="\r\n")

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your name." in body
    assert "Write your message." in body
    assert stored() == []


# The pending cap.


def test_fourth_pending_message_asks_to_verify_the_earlier_ones(client, outbox, stored):
    with time_machine.travel(START, tick=False):
        for n in range(3):
            assert send(client, message=f"message {n}").status_code == 302

        response = send(client, email="ADA@example.com", message="message 3")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    body = response.get_data(as_text=True)
    assert "waiting for verification" in body
    assert "message 3" in body  # the form keeps what was typed
    assert len(stored()) == 3
    assert len(outbox()) == 3


def test_cap_frees_up_when_a_link_expires(client, stored):
    with time_machine.travel(START, tick=False) as traveller:
        send(client, message="first")
        traveller.shift(60)
        send(client, message="second")
        send(client, message="third")
        traveller.shift(841)

        response = send(client, message="fourth")

    assert response.status_code == 302
    assert [r.message for r in stored()] == ["first", "second", "third", "fourth"]


def test_released_messages_do_not_count_against_the_cap(client, outbox):
    for n in range(3):
        send(client, message=f"message {n}")
    submit(client, outbox()[0].link("/contact/verify/"))

    assert send(client, message="message 3").status_code == 302


@pytest.mark.parametrize("config", [{"MAILPROOF_CONTACT_MAX_PENDING": 1}], indirect=True)
def test_cap_is_a_setting(client, stored):
    send(client)

    assert send(client).status_code == 429
    assert len(stored()) == 1


# Logged-in users with a proven address.


def test_confirmed_user_from_own_address_skips_the_round_trip(
    client, outbox, stored, make_user, login
):
    user = make_user(SENDER)
    login(SENDER)

    response = send(client, email="ADA@example.com")

    assert response.headers["Location"] == "/contact/received"
    assert [m.kind for m in outbox()] == ["contact_delivery"]
    [row] = stored()
    assert (row.status, row.user_id) == ("delivered", user.id)


def test_form_starts_with_the_logged_in_users_address(client, make_user, login):
    make_user(SENDER)
    login(SENDER)

    assert f'value="{SENDER}"' in client.get("/contact").get_data(as_text=True)


def test_confirmed_user_writing_from_another_address_must_verify(
    client, outbox, stored, make_user, login
):
    make_user(SENDER)
    login(SENDER)

    send(client, email="other@example.com")

    assert [m.kind for m in outbox()] == ["contact_verify"]
    assert stored()[0].status == "pending"


def test_unconfirmed_user_must_verify(client, outbox, stored, make_user, login):
    make_user(SENDER, confirmed=False)
    login(SENDER)

    send(client)

    assert [m.kind for m in outbox()] == ["contact_verify"]
    assert stored()[0].status == "pending"


@pytest.mark.parametrize("config", [{"MAILPROOF_CONTACT_SKIP_CONFIRMED": False}], indirect=True)
def test_skip_for_confirmed_users_can_be_turned_off(client, outbox, make_user, login):
    make_user(SENDER)
    login(SENDER)

    send(client)

    assert [m.kind for m in outbox()] == ["contact_verify"]


# Settings.


@pytest.mark.parametrize(
    "recipient", ["owner@example.com\r\nBcc: x@example.net", "Owner <owner@example.com>", "owner"]
)
def test_recipient_must_be_one_bare_address(recipient):
    with pytest.raises(ConfigurationError, match="MAILPROOF_CONTACT_RECIPIENT"):
        Settings.from_config({"MAILPROOF_CONTACT_RECIPIENT": recipient}, debug=True)


# The command line.


def _contact_cli(app, *args):
    result = app.test_cli_runner().invoke(args=["mailproof", "contact", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_purge_deletes_pending_messages_older_than_the_default(app, client, outbox, stored):
    with time_machine.travel(START, tick=False) as traveller:
        send(client, email="old@example.com")
        send(client, email="released@example.com")
        submit(client, verify_link(outbox, "released@example.com"))
        traveller.shift(dt.timedelta(days=6))
        send(client, email="recent@example.com")
        traveller.shift(dt.timedelta(days=1, seconds=1))

        output = _contact_cli(app, "purge")

    assert "1 never-verified contact message(s) deleted." in output
    assert "old@example.com" in output
    assert [r.email for r in stored()] == ["released@example.com", "recent@example.com"]


def test_purge_honours_older_than_and_dry_run(app, client, stored):
    with time_machine.travel(START, tick=False) as traveller:
        send(client)
        traveller.shift(dt.timedelta(days=2))

        dry = _contact_cli(app, "purge", "--older-than", "1", "--dry-run")
        assert len(stored()) == 1
        kept = _contact_cli(app, "purge", "--older-than", "3")
        assert len(stored()) == 1
        done = _contact_cli(app, "purge", "--older-than", "1")

    assert "1 never-verified contact message(s) would be deleted." in dry
    assert "0 never-verified contact message(s) deleted." in kept
    assert "1 never-verified contact message(s) deleted." in done
    assert stored() == []


def test_purge_older_than_zero_days_takes_every_unverified_message(app, client, stored):
    with time_machine.travel(START, tick=False) as traveller:
        send(client)
        traveller.shift(1)

        output = _contact_cli(app, "purge", "--older-than", "0")

    assert "1 never-verified contact message(s) deleted." in output
    assert stored() == []


def test_purge_refuses_a_negative_age_in_its_own_words(app):
    with (
        app.app_context(),
        pytest.raises(ValueError, match=r"^older_than_days must not be negative$"),
    ):
        purge_contact_messages(-1, dry_run=True)


def test_list_counts_by_status_and_shows_latest(app, client, outbox):
    with time_machine.travel(START, tick=False) as traveller:
        send(client, email="expired@example.com")
        traveller.shift(901)
        send(client, message="Pending one")
        send(client, email="bob@example.com", name="Bob", message="Released one")
        submit(client, verify_link(outbox, "bob@example.com"))

        output = _contact_cli(app, "list")

    assert "pending: 2 (1 with an expired link)  verified: 0  delivered: 1" in output
    lines = output.splitlines()
    assert "Bob <bob@example.com>" in lines[2]
    assert "Released one" in lines[2]
    assert "Pending one" in lines[3]


def test_list_counts_nothing_as_zero(app):
    output = _contact_cli(app, "list")

    assert (
        output.splitlines()[0] == "pending: 0 (0 with an expired link)  verified: 0  delivered: 0"
    )


def test_list_counts_each_status_apart(app):
    with app.app_context():
        for status, count in (("pending", 1), ("verified", 2), ("delivered", 3)):
            for n in range(count):
                email = f"{status}{n}@example.com"
                db.session.add(
                    models.contact_message(
                        name="A", email=email, email_key=email, message="Hi", status=status
                    )
                )
        db.session.commit()

    output = _contact_cli(app, "list", "--limit", "0")

    assert output == "pending: 1 (0 with an expired link)  verified: 2  delivered: 3\n"


def test_a_link_counts_as_expired_only_once_it_no_longer_works(app, client, outbox):
    with time_machine.travel(START, tick=False) as traveller:
        send(client, email="released@example.com")
        submit(client, verify_link(outbox, "released@example.com"))
        send(client)
        traveller.shift(900)  # the link's lifetime, to the second
        at_the_limit = _contact_cli(app, "list", "--limit", "0")
        still_works = client.get(verify_link(outbox))
        traveller.shift(1)
        past_it = _contact_cli(app, "list", "--limit", "0")
        expired = client.get(verify_link(outbox))

    assert at_the_limit.startswith("pending: 1 (0 with an expired link)  verified: 0  delivered: 1")
    assert still_works.status_code == 200
    assert past_it.startswith("pending: 1 (1 with an expired link)  verified: 0  delivered: 1")
    assert expired.status_code == 410


def test_list_shows_the_newest_of_the_status_asked_for(app, client, outbox):
    with time_machine.travel(START, tick=False):
        for n in range(3):
            send(client, email=f"sender{n}@example.com", message=f"Message {n}")
        submit(client, verify_link(outbox, "sender2@example.com"))

        pending = _contact_cli(app, "list", "--status", "pending", "--limit", "1")
        delivered = _contact_cli(app, "list", "--status", "delivered")

    assert [line.split()[-1] for line in pending.splitlines()[2:]] == ["1"], "sender1, not sender2"
    assert [line.split()[-1] for line in delivered.splitlines()[2:]] == ["2"]


def _stored_message(email, written):
    # As a web process would write it, whose own clock gives the time: the database gives
    # the id, so two processes writing at once may store the later-written one first.
    return models.contact_message(
        name="A", email=email, email_key=email, message="Hi", status="pending", created_at=written
    )


def test_list_shows_the_latest_written_first_whatever_order_they_were_stored_in(app):
    with app.app_context():
        db.session.add(_stored_message("later@example.com", dt.datetime(2026, 3, 2, 9, 5)))
        db.session.commit()
        db.session.add(_stored_message("earlier@example.com", dt.datetime(2026, 3, 2, 9, 0)))
        db.session.commit()

    output = _contact_cli(app, "list")

    listed = [line.split()[5] for line in output.splitlines()[2:]]
    assert listed == ["<later@example.com>", "<earlier@example.com>"]


def test_purge_keeps_a_message_written_exactly_at_the_cutoff(app, client, stored):
    # "Older than 1 day": written before the cutoff, not at it (as for accounts).
    with time_machine.travel(START, tick=False) as traveller:
        send(client)
        traveller.shift(dt.timedelta(days=1))
        at_the_cutoff = _contact_cli(app, "purge", "--older-than", "1")
        traveller.shift(dt.timedelta(microseconds=1))
        past_it = _contact_cli(app, "purge", "--older-than", "1", "--dry-run")

    assert "0 never-verified contact message(s) deleted." in at_the_cutoff
    assert "1 never-verified contact message(s) would be deleted." in past_it
    assert len(stored()) == 1


def test_purge_lists_messages_in_the_order_they_were_stored(app):
    # A fixed order, whatever the database's plan: without one, SQLite walks the
    # (status, created_at) index and lists by the writers' clocks, PostgreSQL by disk order.
    with app.app_context():
        db.session.add(_stored_message("stored-first@example.com", dt.datetime(2026, 3, 2, 9, 5)))
        db.session.commit()
        db.session.add(_stored_message("stored-next@example.com", dt.datetime(2026, 3, 2, 9, 0)))
        db.session.commit()

    output = _contact_cli(app, "purge", "--older-than", "0", "--dry-run")

    listed = [line.split()[-1] for line in output.splitlines()[:-1]]
    assert listed == ["stored-first@example.com", "stored-next@example.com"]


def test_list_keeps_escape_sequences_out_of_the_terminal(app):
    with app.app_context():
        db.session.add(
            models.contact_message(
                name="Mallory\x1b]0;pwned\x07",
                email="m@example.com",
                email_key="m@example.com",
                message="\x1b[2Jcleared\nsecond line",
                status="pending",
            )
        )
        db.session.commit()

    output = _contact_cli(app, "list")

    assert "\x1b" not in output
    assert "\x07" not in output
    assert "cleared second line" in output
