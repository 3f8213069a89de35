"""Delivery latency percentiles of the last hour, and ``flask mailproof outbox --watch``."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from demo.models import db, models
from flask_mailproof.mail.latency import delivery_latency
from flask_mailproof.models import OutboxStatus
from helpers import queue_mails

NOW = dt.datetime(2026, 6, 1, 12, 0, 0)


@pytest.fixture
def sent_mails(app):
    """Return ``sent_mails(latencies, sent_ago=60)``: sent mails that waited these seconds."""

    def write(latencies, sent_ago=60.0, status=OutboxStatus.SENT):
        ids = queue_mails(app, len(latencies))
        sent_at = NOW - dt.timedelta(seconds=sent_ago)
        with app.app_context():
            for message_id, seconds in zip(ids, latencies, strict=True):
                db.session.execute(
                    update(models.outbox)
                    .where(models.outbox.id == message_id)
                    .values(
                        status=status,
                        created_at=sent_at - dt.timedelta(seconds=seconds),
                        sent_at=sent_at if status == OutboxStatus.SENT else None,
                    )
                )
            db.session.commit()

    return write


def latency(app):
    with app.app_context():
        return delivery_latency(db.session(), models.outbox, now=NOW)


def test_percentiles_are_nearest_rank_over_the_last_hour(app, sent_mails):
    sent_mails([float(n) for n in range(1, 101)])

    found = latency(app)

    assert found.count == 100
    assert found.percentiles == pytest.approx({50: 50.0, 90: 90.0, 99: 99.0}, abs=0.01)


def test_a_few_mails_give_their_own_latencies(app, sent_mails):
    sent_mails([0.25, 4.0, 30.0])

    found = latency(app)

    assert found.count == 3
    assert found.percentiles == pytest.approx({50: 4.0, 90: 30.0, 99: 30.0}, abs=0.01)


def test_only_mail_sent_within_the_hour_counts(app, sent_mails):
    sent_mails([5.0, 5.0], sent_ago=30 * 60)
    sent_mails([500.0], sent_ago=61 * 60)
    sent_mails([900.0], status=OutboxStatus.PENDING)
    sent_mails([700.0], status=OutboxStatus.FAILED)

    found = latency(app)

    assert found.count == 2
    assert found.percentiles == pytest.approx({50: 5.0, 90: 5.0, 99: 5.0}, abs=0.01)


def test_nothing_sent_gives_no_percentiles(app):
    assert latency(app).count == 0
    assert latency(app).percentiles == {}


def test_outbox_command_prints_the_percentiles(app, sent_mails, time_machine):
    time_machine.move_to(NOW, tick=False)
    sent_mails([1.0, 2.0, 3.0, 4.0, 100.0])

    result = app.test_cli_runner().invoke(args=["mailproof", "outbox"])

    assert result.exit_code == 0, result.output
    assert "latency, written to sent, of 5 mail(s) in the last hour:" in result.output
    assert "p50 3.0s  p90 100.0s  p99 100.0s" in result.output


def test_outbox_command_says_when_nothing_was_sent(app):
    result = app.test_cli_runner().invoke(args=["mailproof", "outbox"])

    assert result.exit_code == 0, result.output
    assert "no mail sent in the last hour" in result.output


def test_watch_shows_the_outbox_again_with_what_changed(app, sent_mails, monkeypatch):
    views = []
    monkeypatch.setattr("time.sleep", lambda seconds: views.append(seconds) or queue_mails(app, 2))

    result = app.test_cli_runner().invoke(
        args=["mailproof", "outbox", "--watch", "--interval", "0.5", "--refreshes", "3"]
    )

    assert result.exit_code == 0, result.output
    assert views == [0.5, 0.5]
    pending = [line.split()[1] for line in result.output.splitlines() if line.startswith("pending")]
    # Each view reads afresh: the mail written between two views is counted in the next.
    assert pending == ["0", "2", "4"]
    assert result.output.count("every 0.5s") == 3


def test_watch_stops_on_ctrl_c(app, monkeypatch):
    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("time.sleep", interrupt)

    result = app.test_cli_runner().invoke(args=["mailproof", "outbox", "--watch"])

    assert result.exit_code == 0, result.output
    assert result.output.count("due now") == 1
    assert result.output.rstrip().endswith("stopped")
