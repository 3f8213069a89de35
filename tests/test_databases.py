"""What each database backend must keep exactly: unique keys, precision, lengths."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from demo.models import db, models
from flask_mailproof.addresses import address_key
from helpers import PASSWORD, submit


def register(client, email):
    return submit(
        client, "/register", {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
    )


def test_database_refuses_a_second_row_with_the_same_email_key(app):
    with app.app_context():
        db.session.add(models.user(email="a@example.com", email_key="a@example.com"))
        db.session.commit()
        db.session.add(models.user(email="A@example.com", email_key="a@example.com"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("jose@example.com", "josé@example.com"),
        ("zoe@example.com", "zoë@example.com"),
        ("a.b@example.com", "ab@example.com"),
    ],
)
def test_addresses_differing_in_more_than_case_are_two_accounts(client, get_user, first, second):
    # A case- or accent-insensitive collation on the key would merge these into one account.
    register(client, first)
    register(client, second)

    assert get_user(first).email == first
    assert get_user(second).email == second
    assert get_user(first).id != get_user(second).id


def test_email_key_lookup_is_exact_on_every_backend(app, make_user):
    make_user("josé@example.com")

    with app.app_context():
        query = select(models.user).where(models.user.email_key == address_key("jose@example.com"))
        assert db.session.scalars(query).first() is None


def test_longest_address_is_stored_whole(client, get_user):
    address = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 57}.com"
    assert len(address) == 254

    register(client, address)

    assert get_user(address).email == address


def test_timestamps_keep_microseconds(app, make_user, get_user):
    moment = dt.datetime(2026, 3, 4, 5, 6, 7, 891011)
    make_user("time@example.com", registered_at=moment)

    assert get_user("time@example.com").registered_at == moment
