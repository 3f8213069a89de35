"""The demo's migrations, applied to an empty database, build exactly what the models say."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import typing as t

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, insert, inspect

from demo import create_app
from demo.models import db, models


def drop_everything() -> None:
    """Drop every table in the database, the models' or not (``alembic_version`` too)."""
    existing = MetaData()
    existing.reflect(bind=db.engine)
    existing.drop_all(bind=db.engine)


@contextlib.contextmanager
def logging_preserved() -> t.Iterator[None]:
    """Undo the ``fileConfig`` of Alembic's ``env.py``, which disables every other logger."""
    loggers = [logging.getLogger(name) for name in logging.root.manager.loggerDict]
    saved = [(logger, logger.disabled, logger.level) for logger in loggers]
    root_handlers, root_level = logging.root.handlers[:], logging.root.level
    try:
        yield
    finally:
        for logger, disabled, level in saved:
            logger.disabled, logger.level = disabled, level
        logging.root.handlers[:] = root_handlers
        logging.root.setLevel(root_level)


@pytest.fixture
def empty_app(config: dict[str, t.Any]) -> t.Iterator[Flask]:
    """The demo app on a database with no tables at all."""
    app = create_app(config)
    with app.app_context():
        drop_everything()
        with logging_preserved():
            yield app
        db.session.remove()
        drop_everything()
        db.engine.dispose()


def schema_drift() -> list[t.Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_every_migration_applied_to_an_empty_database_matches_the_models(empty_app):
    upgrade()

    assert table_names() == {*db.metadata.tables, "alembic_version"}
    assert schema_drift() == []


def test_downgrading_every_migration_leaves_no_table_of_the_models(empty_app):
    upgrade()
    downgrade(revision="base")

    assert table_names() <= {"alembic_version"}


def test_drift_is_detected(empty_app):
    # The comparison can fail: a database missing a table of the models is reported.
    upgrade()
    with db.engine.begin() as connection:
        db.metadata.tables["users"].drop(connection)

    changes = [change for change in schema_drift() if change[0] == "add_table"]
    assert [table.name for _, table in changes] == ["users"]


def test_migrated_email_key_tells_accented_letters_apart(empty_app):
    upgrade()
    row = {"email": "x@example.com", "session_stamp": "s", "is_admin": False}
    with db.engine.begin() as connection:
        for key in ("jose@example.com", "josé@example.com"):
            connection.execute(
                insert(models.user.__table__).values(
                    **row, email_key=key, registered_at=dt.datetime(2026, 1, 1), confirm_counter=0
                )
            )
