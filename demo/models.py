"""The demo's database: Flask-Mailproof's default models on the demo's own ``db``."""

from __future__ import annotations

import sqlite3
import typing as t

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

from flask_mailproof import define_models

# Named constraints, so migrations are the same on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
models = define_models(db)


@event.listens_for(Engine, "connect")
def _sqlite_for_several_writers(dbapi_connection: t.Any, connection_record: t.Any) -> None:
    """Let the demo's SQLite file serve several processes and the delivery thread at once.

    WAL lets readers run beside the one writer, and a 30 s busy timeout makes a writer wait
    for the lock instead of failing with "database is locked" under a burst of sign-ups.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        if dbapi_connection.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
