"""Delivery against a real SMTP server: retries, failures, rollbacks, concurrent workers."""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
import types

import pytest
from sqlalchemy import func, select

from demo.models import db, models
from flask_mailproof.mail import delivery
from flask_mailproof.mail.delivery import claim_due, due_ids, release_claims, worker_name
from flask_mailproof.mail.worker import deliver_batch, drain
from flask_mailproof.models import OutboxStatus
from flask_mailproof.state import current_state
from helpers import PASSWORD, queue_mails, submit


@pytest.fixture
def fast_retries(config):
    """Retries due within milliseconds; ask for it before ``app``."""
    config.update(MAILPROOF_DELIVERY_RETRY_BASE=0.001, MAILPROOF_DELIVERY_RETRY_CAP=0.002)


@pytest.fixture
def thread_delivery(config):
    """The embedded delivery thread, sweeping often; ask for it before ``app``."""
    config.update(
        MAILPROOF_DELIVERY="thread",
        MAILPROOF_DELIVERY_INTERVAL=0.1,
        MAILPROOF_DELIVERY_RETRY_BASE=0.05,
        MAILPROOF_DELIVERY_RETRY_CAP=0.1,
    )


@pytest.fixture
def small_batches(config):
    config["MAILPROOF_DELIVERY_BATCH_SIZE"] = 7


def deliver(app):
    with app.app_context():
        return drain()


def rows(app):
    with app.app_context():
        found = db.session.scalars(select(models.outbox).order_by(models.outbox.id)).all()
        db.session.expunge_all()
        return found


def attempts(app):
    model = models.delivery_attempt
    with app.app_context():
        found = db.session.scalars(select(model).order_by(model.id)).all()
        db.session.expunge_all()
        return found


def deliver_until_settled(app, timeout=5.0):
    deadline = time.monotonic() + timeout
    while any(row.status in ("pending", "claimed") for row in rows(app)):
        assert time.monotonic() < deadline, "mail still pending"
        deliver(app)
        time.sleep(0.01)


def register(client, email="alice@example.com"):
    return submit(
        client,
        "/register",
        {"email": email, "password": PASSWORD, "password_confirm": PASSWORD},
    )


def test_sign_up_with_smtp_down_is_fast_and_mail_goes_once_it_is_up(
    smtp, thread_delivery, app, client, get_user, stop_delivery
):
    smtp.stop()

    started = time.monotonic()
    response = register(client)
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert elapsed < 1.0
    assert get_user("alice@example.com") is not None
    smtp.start()
    [mail] = smtp.wait_for(1)
    assert mail["To"] == "alice@example.com"


def test_two_temporary_failures_then_accept_delivers_once_with_three_attempts(
    smtp, fast_retries, app
):
    smtp.replies.extend(["451 4.3.0 try again later", "451 4.3.0 try again later"])
    queue_mails(app, 1)

    deliver_until_settled(app)

    assert len(smtp.received) == 1
    [row] = rows(app)
    assert row.status == "sent"
    assert row.attempts == 3
    assert [a.outcome for a in attempts(app)] == ["retry", "retry", "sent"]
    assert "451" in (attempts(app)[0].error or "")


def test_reports_add_up_and_keep_the_last_outcome_there_was():
    total = delivery.DeliveryReport(sent=1, retried=1, failed=1, last_outcome="sent")

    total.add(delivery.DeliveryReport(sent=2, retried=3, failed=4, last_outcome="failed"))
    total.add(delivery.DeliveryReport())  # a round that handled nothing

    assert (total.sent, total.retried, total.failed) == (3, 4, 5)
    assert total.last_outcome == "failed"


def test_a_celery_batch_records_every_attempt_with_its_worker(smtp, app):
    # deliver_batch is what the Celery task runs; drain() goes through the sender pool instead.
    smtp.replies.append("451 4.3.0 try again later")
    first, second = queue_mails(app, 2)

    with app.app_context():
        report = deliver_batch("celery-worker-1")

    assert (report.sent, report.retried) == (1, 1)
    assert [(a.message_id, a.outcome, a.worker) for a in attempts(app)] == [
        (first, "retry", "celery-worker-1"),
        (second, "sent", "celery-worker-1"),
    ]
    assert [row.status for row in rows(app)] == ["pending", "sent"]


@pytest.mark.parametrize("run", ["drain", "deliver_batch"])
def test_a_worker_name_longer_than_what_is_kept_is_cut_once_for_claims_and_log(smtp, app, run):
    # A host may name its workers. A name past the 64 characters the claim and the attempt log
    # keep is cut where the run starts: a strict database would refuse it whole in the claim,
    # and the owner check that records each outcome compares it with the claim's copy.
    name = "worker-" + "x" * 57 + "-past-the-columns"
    queue_mails(app, 2)

    with app.app_context():
        report = drain(worker=name) if run == "drain" else deliver_batch(name)

    assert report.sent == 2
    assert [(a.outcome, a.worker) for a in attempts(app)] == [("sent", name[:64])] * 2
    assert [(row.status, row.claimed_by) for row in rows(app)] == [("sent", None)] * 2


@pytest.mark.app_config(MAILPROOF_DELIVERY_BATCH_SIZE=2)
def test_a_celery_batch_sends_at_most_the_batch_size(smtp, app):
    # A task holds its claims until its last message is sent; the rest wait for other tasks.
    first, second, third = queue_mails(app, 3)

    with app.app_context():
        report = deliver_batch("celery-worker-1")

    assert report.sent == 2
    assert [(row.id, row.status) for row in rows(app)] == [
        (first, "sent"),
        (second, "sent"),
        (third, "pending"),
    ]


def test_a_celery_task_delivers_only_the_messages_it_was_queued_for(smtp, app):
    # Each commit queues a task for its own messages; the others are other tasks' to send.
    others, mine = queue_mails(app, 1), queue_mails(app, 1, start=1)

    with app.app_context():
        report = deliver_batch("celery-worker-1", only=mine)

    assert report.sent == 1
    assert [mail["To"] for mail in smtp.received] == ["user1@example.com"]
    assert [(row.id, row.status) for row in rows(app)] == [
        (*others, "pending"),
        (*mine, "sent"),
    ]


def test_retries_resend_the_same_message_id(smtp, fast_retries, app):
    smtp.replies.extend(["451 later", "451 later"])
    queue_mails(app, 1)

    deliver_until_settled(app)

    [row] = rows(app)
    assert smtp.attempts == [row.message_id] * 3
    assert smtp.received[0]["Message-ID"] == row.message_id


def test_permanent_failure_fails_at_once_and_is_listed(smtp, app):
    smtp.replies.append("550 5.1.1 no such user")
    queue_mails(app, 1)

    report = deliver(app)

    [row] = rows(app)
    assert (report.failed, row.status, row.attempts) == (1, "failed", 1)
    result = app.test_cli_runner().invoke(args=["mailproof", "outbox"])
    assert result.exit_code == 0, result.output
    assert "failed          1" in result.output
    assert "user0@example.com: 550 5.1.1 no such user" in result.output


def test_outbox_retry_requeues_a_failed_message(smtp, app):
    smtp.replies.append("550 5.1.1 no such user")
    queue_mails(app, 1)
    deliver(app)

    result = app.test_cli_runner().invoke(args=["mailproof", "outbox", "retry"])
    deliver(app)

    assert "1 failed message(s) re-queued." in result.output
    [row] = rows(app)
    assert row.status == "sent"
    assert smtp.recipients == ["user0@example.com"]


def test_outbox_retry_filters_by_recipient(smtp, app):
    smtp.replies.extend(["550 no", "550 no"])
    queue_mails(app, 2)
    deliver(app)

    app.test_cli_runner().invoke(args=["mailproof", "outbox", "retry", "--to", "USER1@example.com"])

    assert [row.status for row in rows(app)] == ["failed", "pending"]


def test_outbox_purge_deletes_old_sent_mail_only(smtp, app, time_machine):
    time_machine.move_to("2026-01-01 12:00")
    queue_mails(app, 1)
    deliver(app)
    time_machine.move_to("2026-01-20 12:00")
    queue_mails(app, 1, start=1)
    deliver(app)

    result = app.test_cli_runner().invoke(
        args=["mailproof", "outbox", "purge", "--older-than", "7"]
    )

    assert "1 message(s) deleted." in result.output
    assert [row.recipient for row in rows(app)] == ["user1@example.com"]
    assert {a.message_id for a in attempts(app)} == {rows(app)[0].id}


def test_outbox_deliver_drains_everything_due(smtp, app):
    queue_mails(app, 120)

    result = app.test_cli_runner().invoke(args=["mailproof", "outbox", "deliver"])

    assert "120 sent, 0 to retry, 0 failed." in result.output
    assert len(smtp.received) == 120


def test_rolled_back_transaction_leaves_no_outbox_row(app):
    woken = []
    current = app.extensions["mailproof"].outbox
    current.on_commit(woken.append)
    with app.test_request_context():
        current_state().outbox.queue(
            "bob@example.com",
            "account_exists",
            {"user": types.SimpleNamespace(email="bob@example.com"), "login_link": "x"},
        )
        db.session.flush()
        db.session.rollback()
        db.session.commit()

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(models.outbox)) == 0
    assert woken == []


def test_commit_wakes_delivery_with_the_new_ids(app):
    woken = []
    app.extensions["mailproof"].outbox.on_commit(woken.append)

    ids = queue_mails(app, 2)

    assert woken == [ids]


def test_connection_refused_is_retried_without_waiting_per_message(smtp, fast_retries, app):
    smtp.stop()
    queue_mails(app, 5)

    started = time.monotonic()
    report = deliver(app)

    assert report.retried == 5
    assert time.monotonic() - started < 2
    assert all(row.status == "pending" and row.attempts == 1 for row in rows(app))
    assert "cannot connect" in (rows(app)[0].last_error or "")


def test_two_workers_deliver_every_message_once(smtp, small_batches, app):
    queue_mails(app, 60)
    smtp.hold = 0.01  # long enough for the two workers to overlap
    errors = []
    start = threading.Barrier(2)

    def work():
        name = worker_name()
        start.wait()
        try:
            with app.app_context():
                # Each worker runs again until the outbox is empty, as the delivery thread is
                # woken again: on MariaDB a claim can find nothing while the other worker's
                # claim holds the locks of the due rows it read, and its run then ends.
                deadline = time.monotonic() + 30
                while any(row.status != "sent" for row in rows(app)):
                    assert time.monotonic() < deadline, "the outbox was not emptied in 30 s"
                    drain(name)
                    time.sleep(0.005)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    assert errors == []
    counts = collections.Counter(str(message["Message-ID"]) for message in smtp.received)
    assert len(counts) == 60
    assert set(counts.values()) == {1}
    assert {row.status for row in rows(app)} == {"sent"}
    assert len({a.worker for a in attempts(app)}) == 2


def test_the_sweep_lists_mail_due_past_its_grace_and_claims_past_their_lease(app, time_machine):
    # The Celery sweep's query, which the suite otherwise runs only in a worker process.
    time_machine.move_to("2026-03-01 12:00:00", tick=False)
    first, second, third, claimed = queue_mails(app, 4)

    def due(**kwargs):
        with app.app_context():
            return due_ids(db.session(), models.outbox, **kwargs)

    with app.app_context():
        assert claim_due(
            db.session(), models.outbox, worker="dead", limit=1, only=[claimed], lease=60
        )
        db.session.get(models.outbox, third).status = OutboxStatus.SENT
        db.session.commit()

    assert due() == [first, second]
    assert due(limit=1) == [first]
    assert due(grace=10) == []
    time_machine.move_to("2026-03-01 12:00:10", tick=False)
    assert due(grace=10) == [first, second]
    time_machine.move_to("2026-03-01 12:01:00", tick=False)
    assert claimed not in due(), "a claim is live up to the end of its lease"
    time_machine.move_to("2026-03-01 12:01:00.001", tick=False)
    assert due() == [first, second, claimed]


def test_the_sweep_lists_the_oldest_mail_first_whatever_made_it_due(app, time_machine):
    # Oldest first, so a backlog longer than the sweep's limit cannot keep old mail waiting.
    # Without the order, SQLite answers the two halves of "due" one after the other, each by
    # its own index: pending mail by its next attempt, then the lapsed claims.
    time_machine.move_to("2026-03-01 12:00:00", tick=False)
    lapsed, retried, new = queue_mails(app, 3)
    with app.app_context():
        assert claim_due(
            db.session(), models.outbox, worker="dead", limit=1, only=[lapsed], lease=60
        )
        db.session.get(models.outbox, retried).next_attempt_at = dt.datetime(2026, 3, 1, 12, 0, 5)
        db.session.commit()
    time_machine.move_to("2026-03-01 12:02:00", tick=False)

    with app.app_context():
        assert due_ids(db.session(), models.outbox) == [lapsed, retried, new]
        assert due_ids(db.session(), models.outbox, limit=1) == [lapsed]


def test_the_due_count_is_zero_when_nothing_is_due_and_leaves_out_sent_mail(app):
    def count():
        with app.app_context():
            return delivery.count_due(db.session(), models.outbox)

    assert count() == 0
    first, _, _ = queue_mails(app, 3)
    with app.app_context():
        db.session.get(models.outbox, first).status = OutboxStatus.SENT
        db.session.commit()

    assert count() == 2


@pytest.mark.parametrize(
    ("attempts", "ceiling"), [(0, 30), (1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (20, 600)]
)
def test_retries_wait_between_half_and_all_of_a_doubling_capped_delay(
    monkeypatch, attempts, ceiling
):
    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: (low, high))

    assert delivery.retry_delay(attempts, base=30, cap=600) == (ceiling / 2, ceiling)


@pytest.mark.parametrize(
    ("attempts", "age", "exhausted"),
    [(7, 0, False), (8, 0, True), (1, 172_799, False), (1, 172_800, True)],
    ids=["attempts left", "last attempt", "young enough", "two days old"],
)
def test_a_message_is_given_up_after_its_last_attempt_or_at_its_maximum_age(
    app, time_machine, attempts, age, exhausted
):
    # The defaults: MAILPROOF_DELIVERY_MAX_ATTEMPTS 8, MAILPROOF_DELIVERY_MAX_AGE two days.
    time_machine.move_to("2026-03-01 12:00:00", tick=False)
    row = types.SimpleNamespace(created_at=delivery.utcnow() - dt.timedelta(seconds=age))
    settings = app.extensions["mailproof"].settings

    assert delivery._exhausted(row, attempts, settings) is exhausted


def test_released_claims_go_back_in_line_as_if_never_claimed(app):
    ids = queue_mails(app, 4)
    with app.app_context():
        session = db.session()
        mine = claim_due(session, models.outbox, worker="w1", limit=3, lease=60)
        theirs = claim_due(session, models.outbox, worker="w2", limit=1, lease=60)
        sent = session.get(models.outbox, mine[2])
        sent.status, sent.claimed_by = OutboxStatus.SENT, "w1"
        session.commit()

        release_claims(session, models.outbox, [mine[0], *theirs, mine[2]], worker="w1")

    by_id = {row.id: (row.status, row.claimed_by, row.claimed_until) for row in rows(app)}
    assert by_id[mine[0]] == (OutboxStatus.PENDING, None, None)
    assert by_id[mine[1]][:2] == (OutboxStatus.CLAIMED, "w1"), "not asked to release it"
    assert by_id[theirs[0]][:2] == (OutboxStatus.CLAIMED, "w2"), "another worker's claim"
    assert by_id[mine[2]][:2] == (OutboxStatus.SENT, "w1"), "only claimed messages go back"
    assert sorted(by_id) == sorted(ids)


def test_expired_claim_is_taken_over(smtp, app, time_machine):
    time_machine.move_to("2026-03-01 12:00", tick=False)
    [message_id] = queue_mails(app, 1)
    with app.app_context():
        outbox_model = current_state().models.outbox
        assert claim_due(db.session(), outbox_model, worker="dead", limit=5, lease=60)
    assert deliver(app).handled == 0

    time_machine.move_to("2026-03-01 12:01:01", tick=False)

    assert deliver(app).sent == 1
    assert rows(app)[0].id == message_id


def test_the_attempt_log_keeps_the_error_cut_to_its_size_and_none_for_a_sent_mail(smtp, app):
    # The log answers "why did this mail not go": a sent mail has no error to show, and a
    # server's long reply is kept up to 2,000 characters, never dropped nor stored whole.
    smtp.replies.append("451 4.3.0 " + "x" * 3000)
    queue_mails(app, 2)

    with app.app_context():
        deliver_batch("celery-worker-1")

    retried, sent = attempts(app)
    assert (retried.outcome, sent.outcome) == ("retry", "sent")
    assert len(retried.error) == 2000
    assert "451" in retried.error
    assert sent.error is None
