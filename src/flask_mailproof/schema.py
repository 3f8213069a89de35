"""Whether the extension's tables exist, told once in the log instead of a 500 per request."""

from __future__ import annotations

import dataclasses
import logging
import threading
import typing as t

import sqlalchemy as sa

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from .models import Models

log = logging.getLogger("flask_mailproof.schema")

#: What the log line tells people to run: one command without migrations, two with them.
HOW_TO_CREATE = (
    "run `flask mailproof init-db` (applications without migrations), or add them to your "
    "migrations and run `flask db upgrade` (docs/deploy.md)"
)


def table_names(models: Models) -> list[str]:
    """Return the names of the tables behind ``models``, in field order."""
    return [
        t.cast("sa.Table", getattr(models, field.name).__table__).name
        for field in dataclasses.fields(models)
    ]


def missing_tables(db: SQLAlchemy, models: Models) -> list[str]:
    """Return the tables of ``models`` that the database of the current app lacks."""
    present = set(sa.inspect(db.engine).get_table_names())
    return [name for name in table_names(models) if name not in present]


class SchemaCheck:
    """Remember, per process, whether the tables were found; say once when they were not.

    Checked until found, so tables created while the application runs are picked up without a
    restart; once found, never again (a boolean per request).
    """

    def __init__(self, db: SQLAlchemy, models: Models) -> None:
        self._db = db
        self._models = models
        self._found = False
        self._reported = False
        self._lock = threading.Lock()

    def tables_exist(self) -> bool:
        """Tell whether every table exists (inside an app context); log once if not."""
        if self._found:
            return True
        missing = missing_tables(self._db, self._models)
        with self._lock:
            if not missing:
                self._found = True
            elif not self._reported:
                self._reported = True
                log.error(
                    "Flask-Mailproof's tables are missing from the database (%s): %s.",
                    ", ".join(missing),
                    HOW_TO_CREATE,
                )
        return self._found
