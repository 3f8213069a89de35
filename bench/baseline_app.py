"""The baseline: a bare Flask route that does one INSERT, served like the demo.

It uses the same stack the demo pays for on every request that writes (Flask, Flask-SQLAlchemy,
the same driver and database), and nothing else: no session, no CSRF, no templates. Every
figure of the demo is read against what this does on the same machine in the same run.
"""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, String, insert
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class BaselineRow(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bench_baseline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payload: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


def create_app(database_url: str | None = None) -> Flask:
    """Create the baseline app on ``database_url`` (default: ``DATABASE_URL``)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["DATABASE_URL"]
    db.init_app(app)

    @app.get("/")
    def ready() -> str:
        return "ok"

    @app.post("/insert")
    def insert_row() -> str:
        db.session.execute(
            insert(BaselineRow).values(
                payload="someone@bench.example",
                created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
        )
        db.session.commit()
        return "ok"

    return app
