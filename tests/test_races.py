"""Races against the real database: concurrent requests, each thread with its own client.

Each thread fetches its form first, then all of them wait at a barrier and POST at once. A gate
on the racing statement then holds every request just before it writes until all of them got
there (or two seconds passed), so every run reaches the worst interleaving: all requests have
checked, none has written yet.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from werkzeug.test import TestResponse

from demo.models import db, models
from flask_mailproof import email_confirmed
from flask_mailproof.clock import utcnow
from helpers import PASSWORD, csrf_token, submit

#: Concurrent requests per race.
RACERS = 20


@pytest.fixture
def config(config: dict[str, t.Any]) -> dict[str, t.Any]:
    # One connection per racer, and on SQLite a busy timeout long enough for all writers to
    # queue up behind each other instead of failing with "database is locked".
    options: dict[str, t.Any] = {"pool_size": RACERS, "max_overflow": 0, "pool_timeout": 30}
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    return {**config, "SQLALCHEMY_ENGINE_OPTIONS": options}


def race(
    app: Flask,
    prepare: t.Callable[[int, FlaskClient], str],
    fire: t.Callable[[int, FlaskClient, str], TestResponse],
) -> list[tuple[FlaskClient, TestResponse]]:
    """Run ``RACERS`` threads: each prepares with its own client, then all fire together."""
    barrier = threading.Barrier(RACERS)
    results: list[tuple[FlaskClient, TestResponse] | None] = [None] * RACERS
    errors: list[BaseException] = []

    def run(index: int) -> None:
        client = app.test_client()
        try:
            prepared = prepare(index, client)
            barrier.wait(timeout=60)
            results[index] = (client, fire(index, client, prepared))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    if errors:
        raise errors[0]
    return [result for result in results if result is not None]


@contextlib.contextmanager
def gate(app: Flask, statement_prefix: str) -> t.Iterator[None]:
    """Hold each statement starting with ``statement_prefix`` until all racers reach one."""
    barrier = threading.Barrier(RACERS, timeout=2)

    def wait(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if statement.startswith(statement_prefix):
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", wait)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", wait)


def letter_case_variant(index: int, local: str = "alice", domain: str = "example.com") -> str:
    """Return ``local@domain`` with letters upper-cased after the bits of ``index``."""
    chars = [c.upper() if index >> bit & 1 else c for bit, c in enumerate(local + "@" + domain)]
    return "".join(chars)


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_concurrent_registrations_of_one_address_make_one_account(app, outbox):
    addresses = [letter_case_variant(i) for i in range(RACERS)]
    assert len({a.lower() for a in addresses}) == 1
    assert len(set(addresses)) == RACERS

    def prepare(index: int, client: FlaskClient) -> str:
        return csrf_token(client.get("/register"))

    def fire(index: int, client: FlaskClient, token: str) -> TestResponse:
        data = {"email": addresses[index], "password": PASSWORD, "password_confirm": PASSWORD}
        return client.post("/register", data={"csrf_token": token, **data})

    with gate(app, "INSERT INTO users"):
        results = race(app, prepare, fire)

    assert [response.status_code for _, response in results] == [302] * RACERS
    assert {response.headers["Location"] for _, response in results} == {"/unconfirmed"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(models.user)) == 1
    assert [mail.kind for mail in outbox()] == ["confirm"]


def test_concurrent_clicks_of_one_confirmation_link_confirm_once(app, client, outbox, get_user):
    submit(
        client,
        "/register",
        {"email": "bob@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    link = outbox()[0].link("/confirm/")
    confirmations: list[t.Any] = []

    def record(sender: Flask, user: t.Any) -> None:
        confirmations.append(user.confirmed_at)

    def prepare(index: int, racer: FlaskClient) -> str:
        page = racer.get(link)
        assert page.status_code == 200
        return csrf_token(page)

    def fire(index: int, racer: FlaskClient, token: str) -> TestResponse:
        return racer.post(link, data={"csrf_token": token})

    with email_confirmed.connected_to(record, app), gate(app, "UPDATE users SET confirmed_at"):
        results = race(app, prepare, fire)

    assert [response.status_code for _, response in results] == [302] * RACERS
    thanked = [
        c for c, _ in results if ("success", "Thank you: your address is confirmed.") in flashes(c)
    ]
    assert len(thanked) == 1
    assert len(confirmations) == 1
    assert get_user("bob@example.com").confirmed_at == confirmations[0]


@pytest.mark.app_config(
    MAILPROOF_LIMIT_EMAIL_CHANGE_PER_ACCOUNT="", MAILPROOF_LIMIT_EMAIL_CHANGE_PER_IP=""
)
def test_concurrent_address_change_requests_leave_one_live_link(app, make_user, outbox):
    make_user("alice@example.com")

    def prepare(index: int, client: FlaskClient) -> str:
        submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD})
        return csrf_token(client.get("/change-email"))

    def fire(index: int, client: FlaskClient, token: str) -> TestResponse:
        data = {"email": f"alice{index}@example.com", "current_password": PASSWORD}
        return client.post("/change-email", data={"csrf_token": token, **data})

    # Every racer has read the counter before any of them writes it.
    with gate(app, "UPDATE users SET email_change_counter"):
        results = race(app, prepare, fire)

    assert [response.status_code for _, response in results] == [302] * RACERS
    links = [mail.link("/change-email/") for mail in outbox() if mail.kind == "email_change"]
    assert len(links) == RACERS
    opener = app.test_client()
    assert [opener.get(link).status_code for link in links].count(200) == 1


@pytest.mark.parametrize("expired_logins", [0, 3])
def test_concurrent_logins_of_one_account_all_succeed(app, make_user, expired_logins):
    user = make_user("carol@example.com")
    with app.app_context():
        long_ago = utcnow() - dt.timedelta(days=90)
        for n in range(expired_logins):
            db.session.add(
                models.login_session(
                    user_id=user.id,
                    secret_digest=f"{n:064x}",
                    created_at=long_ago,
                    expires_at=long_ago,
                )
            )
        db.session.commit()

    def prepare(index: int, client: FlaskClient) -> str:
        return csrf_token(client.get("/login"))

    def fire(index: int, client: FlaskClient, token: str) -> TestResponse:
        data = {"email": "carol@example.com", "password": PASSWORD}
        return client.post("/login", data={"csrf_token": token, **data})

    # Every racer has cleared the account's expired login records before any of them writes
    # its own: on InnoDB, a range delete's gap locks and the inserts after it deadlocked.
    with gate(app, "INSERT INTO mailproof_login_session"):
        results = race(app, prepare, fire)

    assert [response.status_code for _, response in results] == [302] * RACERS
    assert [client.get("/profile").status_code for client, _ in results] == [200] * RACERS
    with app.app_context():
        logins = db.session.scalar(select(func.count()).select_from(models.login_session))
    assert logins == RACERS
