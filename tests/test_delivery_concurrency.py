"""Several SMTP sessions at once against a slow real server, and claims renewed while sending.

The bounds here are promises, not performance figures (bench/ measures those): each is several
times what concurrent delivery needs, and well under what one message at a time would take.
"""

from __future__ import annotations

import collections
import math
import threading
import time

import pytest
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof.mail.worker import deliver_batch, drain
from helpers import PASSWORD, queue_mails, submit


def sent_once(smtp, count):
    """Assert that ``count`` distinct messages were each sent exactly once."""
    seen = collections.Counter(smtp.attempts)
    assert len(seen) == count
    assert set(seen.values()) == {1}, [mid for mid, n in seen.items() if n > 1]


def outcomes(app):
    with app.app_context():
        statuses = db.session.scalars(select(models.outbox.status)).all()
        attempts = db.session.scalars(select(models.delivery_attempt.message_id)).all()
        db.session.remove()
        return collections.Counter(statuses), collections.Counter(attempts)


@pytest.mark.app_config(MAILPROOF_DELIVERY_CONCURRENCY=4)
def test_drain_keeps_the_configured_number_of_sessions_in_flight(smtp, app):
    smtp.hold = 0.2
    queue_mails(app, 20)

    with app.app_context():
        report = drain()

    assert report.sent == 20
    assert smtp.peak_in_flight == 4
    sent_once(smtp, 20)
    statuses, attempts = outcomes(app)
    assert statuses == {"sent": 20}
    assert set(attempts.values()) == {1}  # each message recorded once


@pytest.mark.app_config(
    MAILPROOF_DELIVERY="thread",
    MAILPROOF_DELIVERY_INTERVAL=0.1,
    MAILPROOF_DELIVERY_CONCURRENCY=8,
    RATELIMIT_ENABLED=False,
)
def test_a_burst_of_sign_ups_is_accepted_by_a_slow_server_within_a_bound(
    smtp, app, client, stop_delivery
):
    smtp.hold = 0.5
    count, concurrency = 24, 8
    for n in range(count):
        data = {"email": f"user{n}@example.com", "password": PASSWORD, "password_confirm": PASSWORD}
        assert submit(client, "/register", data).status_code == 302
    last_sign_up = time.monotonic()

    smtp.wait_for(count, timeout=60)
    took = time.monotonic() - last_sign_up

    # Concurrent delivery needs 3 rounds of 0.5 s; one message at a time would need 12 s.
    # Three times the rounds leaves room for a busy machine and still fails a serial sender.
    bound = 3 * math.ceil(count / concurrency) * smtp.hold
    assert bound <= count * smtp.hold / 2
    assert took < bound, f"{took:.1f} s"
    assert 1 < smtp.peak_in_flight <= concurrency
    sent_once(smtp, count)


@pytest.mark.app_config(MAILPROOF_DELIVERY_LEASE=1, MAILPROOF_DELIVERY_CONCURRENCY=1)
@pytest.mark.parametrize(
    ("deliver", "hold", "count"),
    # The pool's one session holds each message 1.5 s; the Celery task's batch of 6 takes
    # 2.4 s: either way claims outlive the 1 s lease unless renewed.
    [(drain, 1.5, 3), (deliver_batch, 0.4, 6)],
    ids=["pool", "celery batch"],
)
def test_a_live_workers_long_batch_is_never_taken_over(smtp, app, deliver, hold, count):
    smtp.hold = hold
    queue_mails(app, count)
    reports, long_batch_report = [], []

    def long_batch():
        with app.app_context():
            long_batch_report.append(deliver("long-batch-worker"))

    worker = threading.Thread(target=long_batch)
    worker.start()
    assert smtp.data_started.wait(10)
    with app.app_context():
        # Another worker sweeping all along: it would take expired claims over.
        while worker.is_alive():
            reports.append(drain("rival"))
            time.sleep(0.05)
    worker.join()

    sent_once(smtp, count)
    assert sum(report.sent for report in reports + long_batch_report) == count
    assert outcomes(app)[0] == {"sent": count}
    if deliver is deliver_batch:
        assert long_batch_report[0].sent == count  # the batch kept every claim
