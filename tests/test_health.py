"""``GET /_mailproof/health``: what it reports, when it answers 503, and that it writes nothing."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from sqlalchemy import event, update

from demo.models import db, models
from flask_mailproof.clock import utcnow
from flask_mailproof.errors import ConfigurationError
from flask_mailproof.mail.worker import drain
from flask_mailproof.settings import Settings
from helpers import queue_mails, register
from smtp import free_port

HEALTH = "/_mailproof/health"

#: Health is about the site's own Redis: the tests say which one, whatever the environment has.
pytestmark = pytest.mark.app_config(REDIS_URL=None)


def age_outbox(app, seconds, **values):
    """Make every outbox message due ``seconds`` ago (and set ``values``)."""
    with app.app_context():
        db.session.execute(
            update(models.outbox).values(
                next_attempt_at=utcnow() - dt.timedelta(seconds=seconds), **values
            )
        )
        db.session.commit()


def test_a_healthy_site_answers_200_with_every_figure(client):
    response = client.get(HEALTH)

    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "outbox": {"due": 0, "oldest_due_seconds": 0.0, "failed_last_hour": 0},
        "redis": "not configured",
        "problems": [],
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_health_sets_no_cookie(client):
    register(client)  # a session exists; the health check must neither renew nor replace it

    response = client.get(HEALTH)

    assert "Set-Cookie" not in response.headers


def test_mail_due_recently_is_counted_and_healthy(app, client):
    queue_mails(app, 2)
    age_outbox(app, 30)

    body = client.get(HEALTH).json

    assert body["outbox"]["due"] == 2
    assert 29 <= body["outbox"]["oldest_due_seconds"] < 60
    assert body["status"] == "ok"


def test_mail_due_longer_than_the_threshold_answers_503(app, client):
    queue_mails(app, 1)
    age_outbox(app, 301)

    response = client.get(HEALTH)

    assert response.status_code == 503
    assert response.json["status"] == "failing"
    assert response.json["database"] == "ok"
    assert response.json["outbox"]["oldest_due_seconds"] > 300
    assert "mail is stuck" in response.json["problems"][0]


@pytest.mark.app_config(MAILPROOF_HEALTH_MAX_OUTBOX_AGE=600)
def test_the_threshold_is_a_setting(app, client):
    queue_mails(app, 1)
    age_outbox(app, 301)

    assert client.get(HEALTH).status_code == 200


def test_a_retry_waiting_for_its_time_is_not_due(app, client):
    queue_mails(app, 1)
    age_outbox(app, -600, attempts=1)  # due in ten minutes

    body = client.get(HEALTH).json

    assert body["outbox"]["due"] == 0
    assert client.get(HEALTH).status_code == 200


def test_a_claim_whose_worker_died_is_due_from_its_lapsed_lease(app, client):
    queue_mails(app, 1)
    with app.app_context():
        db.session.execute(
            update(models.outbox).values(
                status="claimed",
                claimed_by="dead:1:x",
                claimed_until=utcnow() - dt.timedelta(seconds=400),
            )
        )
        db.session.commit()

    response = client.get(HEALTH)

    assert response.json["outbox"]["due"] == 1
    assert response.status_code == 503


def test_a_live_claim_is_not_due(app, client):
    queue_mails(app, 1)
    age_outbox(app, 400, status="claimed", claimed_until=utcnow() + dt.timedelta(seconds=10))

    response = client.get(HEALTH)

    assert response.json["outbox"]["due"] == 0
    assert response.status_code == 200


def test_mail_failed_in_the_last_hour_is_counted_but_healthy(smtp, app, client):
    smtp.refused["user0@example.com"] = "550 5.1.1 no such user"
    queue_mails(app, 1)
    with app.app_context():
        drain()

    response = client.get(HEALTH)

    assert response.json["outbox"]["failed_last_hour"] == 1
    assert response.status_code == 200


def test_mail_failed_over_an_hour_ago_is_not_counted(app, client):
    queue_mails(app, 1)
    age_outbox(app, 3601, status="failed")

    assert client.get(HEALTH).json["outbox"]["failed_last_hour"] == 0


def test_an_unreachable_database_answers_503(another_app, tmp_path):
    down = another_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'missing' / 'x.db'}")

    response = down.test_client().get(HEALTH)

    assert response.status_code == 503
    assert response.json["status"] == "failing"
    assert response.json["database"] == "unreachable"
    assert response.json["outbox"] is None
    assert response.json["problems"] == ["database unreachable (OperationalError)"]


def test_an_unreachable_redis_is_reported_but_healthy(app, another_app):
    app = another_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    response = app.test_client().get(HEALTH)

    assert response.status_code == 200
    assert response.json["redis"] == "unreachable"
    assert response.json["status"] == "degraded"
    assert response.json["problems"] == [
        "redis unreachable: rate limits and Celery hand-offs degrade"
    ]


def test_the_rate_limiters_redis_counts_when_redis_url_is_not_set(app, another_app):
    app = another_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")

    assert app.test_client().get(HEALTH).json["redis"] == "unreachable"


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL")
def test_a_reachable_redis_is_ok(app, another_app):
    app = another_app(REDIS_URL=os.environ["TEST_REDIS_URL"])

    assert app.test_client().get(HEALTH).json["redis"] == "ok"


@pytest.mark.app_config(MAILPROOF_HEALTH_PATH="")
def test_an_empty_path_turns_it_off(client):
    assert client.get(HEALTH).status_code == 404


@pytest.mark.app_config(MAILPROOF_HEALTH_PATH="/healthz")
def test_the_path_is_a_setting(client):
    assert client.get("/healthz").status_code == 200
    assert client.get(HEALTH).status_code == 404


@pytest.mark.app_config(RATELIMIT_DEFAULT="1 per hour")
def test_the_hosts_default_rate_limit_does_not_apply(client):
    statuses = [client.get(HEALTH).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]


def test_a_check_is_one_read_and_no_write(app, client):
    queue_mails(app, 3)
    client.get(HEALTH)  # the first request of a process also looks for the tables
    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(HEALTH)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert response.status_code == 200
    assert len(statements) == 1, statements
    assert statements[0].lstrip().upper().startswith("SELECT")


@pytest.mark.app_config(MAILPROOF_METRICS_PATH="/_mailproof/metrics")
def test_every_outbox_query_is_answered_by_a_status_index(app, client):
    """The health check and the metrics' outbox figures never scan the outbox (SQLite's plan;
    bench/health.py prints PostgreSQL's and MariaDB's on 100,000 rows).

    Both outbox indexes lead with ``status``; for a figure that only one status narrows (the
    lapsed claims) SQLite may take either, and reads the same rows through each."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    queries = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "mailproof_outbox" in statement:
            queries.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(HEALTH)
        client.get("/_mailproof/metrics")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as connection:
        plans = [
            [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
            for sql, params in queries
        ]

    assert len(plans) == 3  # health; the metrics' depth and figures
    for plan in plans:
        outbox_steps = [step for step in plan if "mailproof_outbox" in step]
        assert outbox_steps, plan
        assert all(step.startswith("SEARCH") for step in outbox_steps), plan
        assert all(
            re.search(r"INDEX ix_mailproof_outbox_(due|sent) \(status=", step)
            for step in outbox_steps
        ), plan
    # The due ranges themselves are read through the due index.
    steps = [step for plan in plans for step in plan]
    assert any("ix_mailproof_outbox_due (status=? AND next_attempt_at" in s for s in steps), steps


def test_a_path_must_be_a_path():
    with pytest.raises(ConfigurationError, match="MAILPROOF_HEALTH_PATH must be a path"):
        Settings.from_config({"MAILPROOF_HEALTH_PATH": "health"}, debug=True)


def test_the_health_and_metrics_paths_differ():
    with pytest.raises(ConfigurationError, match="must differ"):
        Settings.from_config(
            {"MAILPROOF_HEALTH_PATH": "/ops", "MAILPROOF_METRICS_PATH": "/ops"}, debug=True
        )


def test_the_threshold_must_be_positive():
    with pytest.raises(ConfigurationError, match="MAILPROOF_HEALTH_MAX_OUTBOX_AGE"):
        Settings.from_config({"MAILPROOF_HEALTH_MAX_OUTBOX_AGE": 0}, debug=True)
