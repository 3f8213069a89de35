"""Prometheus metrics: counted from the signals, served at ``MAILPROOF_METRICS_PATH``."""

from __future__ import annotations

import sys

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from demo import create_app
from demo.models import db, models
from flask_mailproof import Mailproof, operations
from flask_mailproof.errors import ConfigurationError
from flask_mailproof.mail.worker import drain
from flask_mailproof.signals import rate_limited
from flask_mailproof.state import current_state
from helpers import PASSWORD, queue_mails, register, submit

METRICS = "/_mailproof/metrics"

pytestmark = pytest.mark.app_config(MAILPROOF_METRICS_PATH=METRICS)


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of a scrape by (name, sorted labels)."""
    response = client.get(METRICS)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def deliver(app):
    with app.app_context():
        return drain()


def test_a_sign_up_counts_the_account_and_its_mail(client):
    register(client)

    samples = scrape(client)

    assert value(samples, "mailproof_signups_total") == 1
    assert value(samples, "mailproof_mails_written_total", kind="confirm") == 1


def test_a_rolled_back_mail_is_not_counted(app, client):
    with app.test_request_context():
        current_state().outbox.queue("x@example.com", "account_exists", {"user": None})
        db.session.rollback()

    assert value(scrape(client), "mailproof_mails_written_total", kind="account_exists") == 0


def test_a_confirmation_counts_with_its_delay(client, outbox):
    register(client)
    [mail] = outbox()
    submit(client, mail.link("/confirm/"))

    samples = scrape(client)

    assert value(samples, "mailproof_confirmations_total") == 1
    assert value(samples, "mailproof_confirmation_delay_seconds_count") == 1
    assert value(samples, "mailproof_confirmation_delay_seconds_bucket", le="10.0") == 1


def test_sent_mail_counts_with_its_delivery_latency(smtp, app, client):
    queue_mails(app, 2)
    deliver(app)

    samples = scrape(client)

    assert value(samples, "mailproof_mails_sent_total", kind="account_exists") == 2
    assert value(samples, "mailproof_mail_delivery_seconds_count", kind="account_exists") == 2
    assert (
        value(samples, "mailproof_mail_delivery_seconds_bucket", kind="account_exists", le="+Inf")
        == 2
    )


def test_a_temporary_failure_counts_as_a_retry_by_reason(smtp, app, client):
    smtp.replies.append("451 4.3.0 try again later")
    queue_mails(app, 1)
    deliver(app)

    samples = scrape(client)

    assert (
        value(samples, "mailproof_mails_retried_total", kind="account_exists", reason="temporary")
        == 1
    )
    assert value(samples, "mailproof_mails_sent_total", kind="account_exists") == 0


def test_an_unreachable_server_counts_as_a_connection_retry(app, client, another_app):
    queue_mails(app, 1)
    offline = another_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=1)
    deliver(offline)

    samples = scrape(offline.test_client())

    assert (
        value(samples, "mailproof_mails_retried_total", kind="account_exists", reason="connection")
        == 1
    )


def test_a_refused_recipient_counts_as_failed_by_reason(smtp, app, client):
    smtp.refused["user0@example.com"] = "550 5.1.1 no such user"
    queue_mails(app, 1)
    deliver(app)

    samples = scrape(client)

    assert (
        value(
            samples,
            "mailproof_mails_failed_total",
            kind="account_exists",
            reason="recipient_refused",
        )
        == 1
    )


def test_the_outbox_depth_is_read_at_scrape_time(app, client):
    queue_mails(app, 3)

    samples = scrape(client)

    assert value(samples, "mailproof_outbox_messages", status="pending") == 3
    assert value(samples, "mailproof_outbox_messages", status="claimed") == 0
    assert value(samples, "mailproof_outbox_messages", status="failed") == 0
    assert value(samples, "mailproof_outbox_oldest_due_seconds") >= 0
    assert ("mailproof_outbox_messages", (("status", "sent"),)) not in samples


@pytest.mark.app_config(
    MAILPROOF_METRICS_PATH=METRICS, MAILPROOF_LIMIT_SIGNUP_PER_IP="1 per minute"
)
def test_a_rate_limit_refusal_counts_by_limit(client):
    register(client, "a@example.com")
    refused = register(client, "b@example.com")

    assert refused.status_code == 429
    assert value(scrape(client), "mailproof_rate_limited_total", limit="signup_per_ip") == 1


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_ADDRESS="2 per hour")
def test_failed_logins_count_only_once_the_lock_refuses(app, client, make_user):
    make_user("alice@example.com")
    sent = []

    def receive(sender, **kwargs):
        sent.append(kwargs["limit"])

    with rate_limited.connected_to(receive, sender=app):
        for _ in range(2):
            submit(client, "/login", {"email": "alice@example.com", "password": "wrong" * 4})
        assert sent == []  # failures, not refusals
        locked = submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD})

    assert locked.status_code == 429
    assert sent == ["login_failures_per_address"]


@pytest.mark.app_config(MAILPROOF_METRICS_PATH="")
def test_metrics_are_off_by_default(app, client):
    assert client.get(METRICS).status_code == 404
    assert app.extensions["mailproof"].metrics is None


def test_metrics_go_on_the_hosts_registry_when_given_one(config, tmp_path):
    registry = CollectorRegistry()
    app = Flask("host")
    app.config.update({**config, "MAILPROOF_METRICS_PATH": ""})
    db.init_app(app)
    Mailproof(app, db=db, models=models, metrics_registry=registry)
    with app.app_context():
        db.create_all()
    try:
        queue_mails(app, 1)

        assert (
            registry.get_sample_value("mailproof_mails_written_total", {"kind": "account_exists"})
            == 1
        )
        assert registry.get_sample_value("mailproof_outbox_messages", {"status": "pending"}) == 1
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()


def forget_prometheus_client(monkeypatch):
    """Make ``import prometheus_client`` fail, as where the metrics extra is not installed."""
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.delitem(sys.modules, "flask_mailproof.operations.metrics")
    monkeypatch.delattr(operations, "metrics")


def test_metrics_without_prometheus_client_stop_the_start(config, monkeypatch):
    forget_prometheus_client(monkeypatch)

    with pytest.raises(ConfigurationError, match=r"flask-mailproof\[metrics\]"):
        create_app(config)


@pytest.mark.app_config(MAILPROOF_METRICS_PATH="")
def test_without_prometheus_client_and_metrics_off_everything_works(config, monkeypatch):
    forget_prometheus_client(monkeypatch)

    app = create_app(config)

    assert app.extensions["mailproof"].metrics is None


def test_a_missing_multiprocess_directory_stops_the_start(config, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "absent"))

    with pytest.raises(ConfigurationError, match="PROMETHEUS_MULTIPROC_DIR"):
        create_app(config)
