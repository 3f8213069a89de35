"""POST /_mailproof/bounce: signed reports only, clear 4xx answers, and the providers' events
translated by the documented forwarder (docs/delivery.md) from their example payloads."""

from __future__ import annotations

import json
import time
import types
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof import address_suppressed
from flask_mailproof.flows.bounce_reports import signature
from test_docs import example_files

SECRET = "a-bounce-webhook-secret-of-at-least-32-chars"
URL = "/_mailproof/bounce"
FIXTURES = Path(__file__).parent / "fixtures" / "bounces"

pytestmark = pytest.mark.app_config(MAILPROOF_BOUNCE_WEBHOOK_SECRET=SECRET)


def signed(body, *, secret=SECRET, at=None):
    timestamp = str(int(time.time() if at is None else at))
    return {
        "Content-Type": "application/json",
        "X-Mailproof-Timestamp": timestamp,
        "X-Mailproof-Signature": signature(secret, timestamp, body),
    }


def post(client, report, **kwargs):
    body = report if isinstance(report, bytes) else json.dumps(report).encode()
    return client.post(URL, data=body, headers=signed(body, **kwargs))


def suppressed(app):
    with app.app_context():
        model = models.suppression
        rows = db.session.scalars(select(model).order_by(model.email_key)).all()
        return [(r.email, r.reply_code, r.reason, r.source) for r in rows]


def test_a_signed_report_suppresses_the_address(app, client):
    report = {"address": "nobody@example.com", "reason": "550 5.1.1 user unknown"}

    response = post(client, {**report, "reply_code": 550})

    assert response.status_code == 200
    assert response.get_json() == {"suppressed": True}
    assert suppressed(app) == [("nobody@example.com", 550, "550 5.1.1 user unknown", "webhook")]


def test_a_temporary_report_is_accepted_and_suppresses_nothing(app, client):
    response = post(client, {"address": "full@example.com", "reason": "full", "permanent": False})

    assert response.get_json() == {"suppressed": False}
    assert suppressed(app) == []


def test_the_answer_is_the_same_with_or_without_an_account(app, client, make_user):
    make_user("member@example.com")

    answers = [
        post(client, {"address": address, "reason": "550"}).get_data()
        for address in ("member@example.com", "stranger@example.com")
    ]

    assert answers[0] == answers[1]


def test_the_signal_names_the_address_and_reason(app, client):
    seen = []

    def record(sender, address, reason):
        seen.append((address, reason))

    with address_suppressed.connected_to(record, app):
        post(client, {"address": "nobody@example.com", "reason": "complaint: abuse"})

    assert seen == [("nobody@example.com", "complaint: abuse")]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Mailproof-Timestamp": "1"},
        {"X-Mailproof-Signature": "sha256=00"},
        {"X-Mailproof-Timestamp": "not a number", "X-Mailproof-Signature": "sha256=00"},
    ],
    ids=["none", "no signature", "no timestamp", "bad timestamp"],
)
def test_an_unsigned_report_is_refused(app, client, headers):
    response = client.post(URL, data=b'{"address": "a@example.com"}', headers=headers)

    assert response.status_code == 401
    assert response.get_json()["code"] == "signature_missing"
    assert suppressed(app) == []


def test_a_report_signed_with_another_secret_is_refused(app, client):
    response = post(client, {"address": "a@example.com"}, secret="another-secret-" + "x" * 32)

    assert response.status_code == 401
    assert response.get_json()["code"] == "signature_invalid"
    assert suppressed(app) == []


def test_a_body_changed_after_signing_is_refused(app, client):
    body = json.dumps({"address": "a@example.com"}).encode()
    headers = signed(body)

    response = client.post(URL, data=body.replace(b"a@", b"b@"), headers=headers)

    assert response.status_code == 401
    assert suppressed(app) == []


def test_a_signature_moved_to_a_fresh_timestamp_is_refused(app, client):
    body = json.dumps({"address": "a@example.com"}).encode()
    headers = signed(body, at=time.time() - 3600)
    headers["X-Mailproof-Timestamp"] = str(int(time.time()))

    assert client.post(URL, data=body, headers=headers).status_code == 401


@pytest.mark.parametrize("age", [301, -301], ids=["old", "future"])
def test_a_stale_report_is_refused_even_well_signed(app, client, age):
    response = post(client, {"address": "a@example.com"}, at=time.time() - age)

    assert response.status_code == 401
    assert response.get_json()["code"] == "timestamp_stale"
    assert suppressed(app) == []


SIGNATURE_HELP = (
    "Sign the body: X-Mailproof-Timestamp (Unix seconds) and X-Mailproof-Signature "
    "(sha256=HMAC-SHA256 of '<timestamp>.<body>' under the shared secret, in hex)."
)


def test_a_wrong_signature_is_answered_with_how_to_sign(app, client):
    response = post(client, {"address": "a@example.com"}, secret="another-secret-" + "x" * 32)

    assert response.get_json()["message"] == SIGNATURE_HELP


def test_a_missing_signature_is_answered_with_how_to_sign(app, client):
    # A provider's forwarder set up without the headers learns from the answer what to send.
    response = client.post(URL, data=b'{"address": "a@example.com"}')

    assert response.get_json()["message"] == SIGNATURE_HELP


@pytest.mark.parametrize(
    ("digits", "code"), [(12, "timestamp_stale"), (13, "signature_missing")], ids=["12", "13"]
)
def test_a_timestamp_has_at_most_twelve_digits(app, client, digits, code):
    body = b'{"address": "a@example.com"}'
    timestamp = "9" * digits

    response = client.post(
        URL,
        data=body,
        headers={
            "X-Mailproof-Timestamp": timestamp,
            "X-Mailproof-Signature": signature(SECRET, timestamp, body),
        },
    )

    assert (response.status_code, response.get_json()["code"]) == (401, code)


def test_a_report_is_fresh_up_to_its_max_age_to_the_second(app, client, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    now = time.time()

    at_the_limit = post(client, {"address": "a@example.com"}, at=now - 300)
    past_it = post(client, {"address": "b@example.com"}, at=now - 301)

    assert at_the_limit.status_code == 200
    assert past_it.get_json() == {
        "code": "timestamp_stale",
        "message": "The timestamp is too old (or in the future): sign anew.",
    }


def test_a_report_of_an_address_alone_is_a_permanent_bounce(app, client):
    response = post(client, {"address": "a@example.com"})

    assert response.get_json() == {"suppressed": True}
    assert suppressed(app) == [("a@example.com", None, "bounced", "webhook")]


@pytest.mark.parametrize("reply_code", [200, 599])
def test_every_smtp_code_is_accepted(app, client, reply_code):
    response = post(client, {"address": "a@example.com", "reply_code": reply_code})

    assert response.status_code == 200
    assert suppressed(app)[0][1] == reply_code


NOT_JSON = "The body is not JSON."
NOT_AN_OBJECT = "The body must be a JSON object."
NOT_AN_ADDRESS = "address must be one email address."
NOT_A_REASON = "reason must be text (2000 at most)."
NOT_A_BOOLEAN = "permanent must be true or false."
NOT_A_CODE = "reply_code must be an SMTP code."


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"{not json", "invalid_json", NOT_JSON),
        (b"\xff\xfe", "invalid_json", NOT_JSON),
        (b'["a@example.com"]', "invalid_report", NOT_AN_OBJECT),
        (b"{}", "invalid_address", NOT_AN_ADDRESS),
        (b'{"address": "no-at-sign"}', "invalid_address", NOT_AN_ADDRESS),
        (b'{"address": "a b@example.com"}', "invalid_address", NOT_AN_ADDRESS),
        (b'{"address": "a@\\u0007.example"}', "invalid_address", NOT_AN_ADDRESS),
        (b'{"address": 5}', "invalid_address", NOT_AN_ADDRESS),
        (b'{"address": "a@example.com", "permanent": "yes"}', "invalid_report", NOT_A_BOOLEAN),
        (b'{"address": "a@example.com", "reason": 5}', "invalid_report", NOT_A_REASON),
        (b'{"address": "a@example.com", "reply_code": 99}', "invalid_report", NOT_A_CODE),
        (b'{"address": "a@example.com", "reply_code": 600}', "invalid_report", NOT_A_CODE),
        (b'{"address": "a@example.com", "reply_code": "550"}', "invalid_report", NOT_A_CODE),
        (b'{"address": "a@example.com", "reply_code": true}', "invalid_report", NOT_A_CODE),
        (
            b'{"address": "a@example.com", "extra": 1, "more": 2}',
            "invalid_report",
            "Unknown fields: ['extra', 'more'].",
        ),
    ],
)
def test_a_malformed_report_gets_a_clear_400(app, client, body, code, message):
    response = post(client, body)

    assert response.status_code == 400
    assert response.get_json()["code"] == code
    assert response.get_json()["message"] == message
    assert suppressed(app) == []


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("a@", False),  # 2 characters
        ("a@b", True),  # the shortest an address can be written
        ("a@" + "b" * 252, True),  # 254, the longest a forward path allows
        ("a@" + "b" * 253, False),
    ],
)
def test_the_reported_address_has_the_length_of_an_address(app, client, address, accepted):
    response = post(client, {"address": address, "reason": "550 no such user"})

    assert response.status_code == (200 if accepted else 400)
    assert [row[0] for row in suppressed(app)] == ([address] if accepted else [])


def test_a_reason_longer_than_2000_characters_is_refused(app, client):
    assert post(client, {"address": "a@example.com", "reason": "x" * 2000}).status_code == 200
    response = post(client, {"address": "b@example.com", "reason": "x" * 2001})

    assert response.status_code == 400
    assert response.get_json()["message"] == NOT_A_REASON


def test_a_large_body_gets_413(app, client):
    response = post(client, b'{"address": "a@example.com", "reason": "' + b"x" * 20000 + b'"}')

    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_no_csrf_token_is_needed(app):
    client = app.test_client()
    client.get("/register")  # a session, as a browser would have

    assert post(client, {"address": "a@example.com"}).status_code == 200


@pytest.mark.app_config(MAILPROOF_BOUNCE_WEBHOOK_SECRET="")
def test_the_endpoint_is_off_by_default(app, client):
    response = post(client, {"address": "a@example.com"})

    assert response.status_code == 404
    assert suppressed(app) == []


@pytest.mark.parametrize("secret", ["short", "x" * 31])
def test_a_short_secret_is_refused_at_start(config, secret):
    from demo import create_app
    from flask_mailproof import ConfigurationError

    with pytest.raises(ConfigurationError, match="BOUNCE_WEBHOOK_SECRET"):
        create_app({**config, "MAILPROOF_BOUNCE_WEBHOOK_SECRET": secret})


@pytest.fixture(scope="module")
def forwarder():
    """The documented forwarder of docs/delivery.md, run from the document itself."""
    module = types.ModuleType("bounce_forwarder")
    exec(example_files()["bounce_forwarder.py"], module.__dict__)  # noqa: S102 - our docs
    return module


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("provider", "payload", "expected"),
    [
        (
            "ses",
            "ses_sns_bounce.json",
            [("nobody@example.com", "smtp; 550 5.1.1 user unknown", True, 550)],
        ),
        (
            "ses",
            "ses_sns_complaint.json",
            [("annoyed@example.com", "complaint: abuse", True, None)],
        ),
        (
            "ses",
            "ses_sns_transient.json",
            [("full@example.com", "smtp; 452 4.2.2 mailbox full", False, 452)],
        ),
        (
            "postmark",
            "postmark_hard_bounce.json",
            [
                (
                    "nobody@example.com",
                    "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
                    True,
                    550,
                )
            ],
        ),
        (
            "postmark",
            "postmark_spam_complaint.json",
            [
                (
                    "annoyed@example.com",
                    "complaint: The subscriber explicitly marked this message as spam.",
                    True,
                    None,
                )
            ],
        ),
        (
            "postmark",
            "postmark_soft_bounce.json",
            [("full@example.com", "smtp;452 4.2.2 mailbox full", False, 452)],
        ),
        (
            "sendgrid",
            "sendgrid_events.json",
            [
                (
                    "nobody@example.com",
                    "550 5.1.1 The email account that you tried to reach does not exist.",
                    True,
                    550,
                ),
                ("annoyed@example.com", "complaint: spam report", True, None),
                ("full@example.com", "452 4.2.2 mailbox full", False, 452),
            ],
        ),
    ],
)
def test_the_documented_forwarder_translates_each_providers_events(
    forwarder, provider, payload, expected
):
    reports = getattr(forwarder, f"from_{provider}")(fixture(payload))

    assert [
        (r["address"], r["reason"], r["permanent"], r["reply_code"]) for r in reports
    ] == expected


@pytest.mark.parametrize(
    ("provider", "payload"),
    [
        ("ses", "ses_sns_bounce.json"),
        ("postmark", "postmark_hard_bounce.json"),
        ("sendgrid", "sendgrid_events.json"),
    ],
)
def test_forwarded_provider_events_are_accepted_and_suppress_the_address(
    app, client, forwarder, provider, payload
):
    for report in getattr(forwarder, f"from_{provider}")(fixture(payload)):
        body = json.dumps(report).encode()
        response = client.post(URL, data=body, headers=forwarder.sign(SECRET, body))
        assert response.status_code == 200, response.get_data(as_text=True)

    assert "nobody@example.com" in [row[0] for row in suppressed(app)]
    assert "full@example.com" not in [row[0] for row in suppressed(app)]
