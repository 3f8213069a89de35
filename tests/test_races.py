"""Races against the real database: concurrent requests, each thread with its own client.

Each thread fetches its form first, then all of them wait at a barrier and POST at once. A gate
on the racing statement then holds every request just before it writes until all of them got
there (or two seconds passed), so every run reaches the worst interleaving: all requests have
checked, none has written yet.
"""

from __future__ import annotations

import contextlib
import threading
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from werkzeug.test import TestResponse

from conftest import PASSWORD, csrf_token, submit
from demo.models import db, models
from flask_mailproof import email_confirmed

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
