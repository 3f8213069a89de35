"""Fresh databases, bulk-loaded users, and gunicorn serving the demo or the baseline."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
import types
import typing as t
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from demo import create_app
from demo.models import db, models
from flask_mailproof.flows.confirmation import confirmation_token

from .load import Client
from .proc_memory import tier_memory

#: The repository root: gunicorn imports ``demo`` and ``bench`` from here.
ROOT = Path(__file__).resolve().parent.parent

#: Settings every served demo gets, whatever the run: plain HTTP on loopback, no limiter.
SERVED_DEMO_SETTINGS = {
    "MAILPROOF_DELIVERY": "thread",
    "SESSION_COOKIE_SECURE": "false",
    "REMEMBER_COOKIE_SECURE": "false",
    "RATELIMIT_ENABLED": "false",
}


def bulk_address(user_id: int) -> str:
    """Return the address of bulk-loaded user ``user_id``."""
    return f"user{user_id}@bench.example"


def bulk_stamp(user_id: int) -> str:
    """Return the session stamp of bulk-loaded user ``user_id`` (known, so tokens can be made)."""
    return f"{user_id:032x}"


class Database:
    """Where each deployment's fresh database lives: a new SQLite file, or a reset schema."""

    def __init__(self, url: str | None, workdir: Path) -> None:
        self.given_url = url
        self.workdir = workdir
        self._engine: Engine | None = None

    @property
    def dialect(self) -> str:
        return make_url(self.given_url).get_backend_name() if self.given_url else "sqlite"

    def backend_pids(self) -> list[int]:
        """Return the pids of the PostgreSQL backends serving this database, if it is local.

        Their CPU time is the database's share of a request; SQLite's is in the workers'.
        """
        if self.dialect != "postgresql" or not self.given_url:
            return []
        host = make_url(self.given_url).host or "localhost"
        if host not in ("127.0.0.1", "localhost", "::1"):
            return []
        if self._engine is None:
            self._engine = create_engine(self.given_url, poolclass=NullPool)
        with self._engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            )
            return [int(pid) for (pid,) in rows]

    def server_version(self) -> str:
        """Return the database engine's version, for the report."""
        if self.dialect == "sqlite" or not self.given_url:
            return f"SQLite {sqlite3.sqlite_version}"
        engine = create_engine(self.given_url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                info = connection.dialect.server_version_info or ()
                return f"{self.dialect} {'.'.join(str(part) for part in info)}"
        finally:
            engine.dispose()

    def fresh_url(self, name: str, *, separate: bool = False) -> str:
        """Return the URL of an empty database for deployment ``name``.

        SQLite gets a new file per deployment. A given PostgreSQL database is shared, unless
        ``separate``: then the deployment gets its own schema (``bench_<name>``), for when two
        deployments must be served side by side.
        """
        if not self.given_url:
            path = self.workdir / f"{name}.sqlite3"
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return f"sqlite:///{path}"
        if not separate:
            return self.given_url
        if self.dialect != "postgresql":
            raise RuntimeError("side-by-side deployments need SQLite or PostgreSQL")
        schema = self.schema_name(name)
        engine = create_engine(self.given_url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        finally:
            engine.dispose()
        url = make_url(self.given_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def drop_separate(self, name: str) -> None:
        """Drop the schema :meth:`fresh_url` made for ``name`` (PostgreSQL only)."""
        if self.dialect != "postgresql" or not self.given_url:
            return
        engine = create_engine(self.given_url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(f'DROP SCHEMA IF EXISTS "{self.schema_name(name)}" CASCADE')
                )
        finally:
            engine.dispose()

    @staticmethod
    def schema_name(name: str) -> str:
        return "bench_" + "".join(c if c.isalnum() else "_" for c in name.lower())


def demo_app(database_url: str, secret_key: str, base_url: str, **config: t.Any) -> Flask:
    """Return the demo app in this process, on ``database_url``, sending no mail itself."""
    settings = {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAILPROOF_BASE_URL": base_url,
        "MAILPROOF_DELIVERY": "external",
        "MAIL_SERVER": None,
        **config,
    }
    return create_app(settings)


def reset_schema(app: Flask) -> None:
    """Drop and create the demo's tables."""
    with app.app_context():
        db.drop_all()
        db.create_all()


def bulk_load_users(app: Flask, first_id: int, count: int, password_hash: str) -> float:
    """Insert users ``first_id`` .. ``first_id + count - 1`` in bulk; return the seconds taken.

    SQLite gets ``executemany`` in one transaction, PostgreSQL gets ``COPY``; every user is
    unconfirmed with a known stamp, so :func:`confirm_tokens` can make their links.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    columns = (
        "id",
        "email",
        "email_key",
        "password_hash",
        "registered_at",
        "session_stamp",
        "is_admin",
        "confirm_counter",
        "confirmation_sent_at",
        "reset_counter",
        "email_change_counter",
        "login_counter",
    )
    started = time.perf_counter()
    with app.app_context():
        table = models.user.__table__
        engine: Engine = db.engine
        chunk = 50_000
        for start in range(first_id, first_id + count, chunk):
            stop = min(start + chunk, first_id + count)
            rows = [
                (
                    i,
                    bulk_address(i),
                    bulk_address(i),
                    password_hash,
                    now,
                    bulk_stamp(i),
                    False,
                    1,
                    now,
                    0,
                    0,
                    0,
                )
                for i in range(start, stop)
            ]
            insert_rows(engine, str(table.name), columns, rows)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
    return time.perf_counter() - started


def settle_database(app: Flask, model: type[t.Any] | None = None) -> float:
    """Bring a freshly bulk-loaded database to the state of one that has lived a while.

    PostgreSQL gets ``VACUUM ANALYZE`` (statistics, hint bits, visibility map: otherwise the
    first requests to read each page pay for it), SQLite ``ANALYZE``; then the loaded pages are
    flushed to disk so writeback does not run under the measurement. ``model``: the table
    loaded (default: the users). Returns the seconds taken.
    """
    started = time.perf_counter()
    with app.app_context():
        table = str((model or models.user).__table__.name)
        engine: Engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f"VACUUM ANALYZE {table}"))
        elif engine.dialect.name == "sqlite":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
    os.sync()
    return time.perf_counter() - started


def insert_rows(
    engine: Engine, table: str, columns: tuple[str, ...], rows: list[tuple[t.Any, ...]]
) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(columns)
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        elif engine.dialect.name == "sqlite":
            # The format SQLAlchemy itself stores SQLite datetimes in.
            stored = [
                tuple(
                    v.isoformat(" ", "microseconds") if isinstance(v, dt.datetime) else v for v in r
                )
                for r in rows
            ]
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", stored)
        else:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        raw.commit()
    finally:
        raw.close()


def confirm_tokens(app: Flask, user_ids: t.Iterable[int], password_hash: str) -> list[str]:
    """Return the confirmation token each bulk-loaded user's mail would carry.

    ``password_hash``: the hash the users were loaded with (a token binds a digest of it).
    """
    with app.app_context():
        return [
            confirmation_token(
                types.SimpleNamespace(  # type: ignore[arg-type]
                    id=i,
                    confirm_counter=1,
                    email_key=bulk_address(i),
                    session_stamp=bulk_stamp(i),
                    password_hash=password_hash,
                )
            )
            for i in user_ids
        ]


def count_confirmed(app: Flask) -> int:
    """Return how many users have a confirmed address."""
    with app.app_context():
        table = models.user.__table__
        return int(
            db.session.execute(
                text(f"SELECT count(*) FROM {table.name} WHERE confirmed_at IS NOT NULL")
            ).scalar_one()
        )


class Gunicorn:
    """One gunicorn master with sync workers on 127.0.0.1, started and stopped by us."""

    def __init__(
        self,
        app_spec: str,
        *,
        port: int,
        workers: int,
        env: dict[str, str],
        log_path: Path,
        ready_path: str = "/",
    ) -> None:
        self.app_spec = app_spec
        self.port = port
        self.workers = workers
        self.env = env
        self.log_path = log_path
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "--timeout",
                "120",
                # The repository's settings, as deployed (docs/deploy.md), wherever the
                # harness runs from; the options here and GUNICORN_* in env override them.
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--pythonpath",
                str(ROOT),
                # No .env of the repository is read: the run's settings are all in env.
                "--chdir",
                str(self.log_path.parent),
                self.app_spec,
            ],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        client = Client(self.port, timeout=5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if client.request("GET", self.ready_path).status < 500:
                    self._wait_for_workers(deadline)
                    return
            except OSError:
                time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"gunicorn {self.app_spec} did not start:\n{tail}")

    def _wait_for_workers(self, deadline: float) -> None:
        while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def memory(self) -> dict[str, t.Any]:
        """Return the master's and each worker's memory (bench.proc_memory)."""
        master = self.process.pid if self.process is not None else None
        return tier_memory(master, self.worker_pids())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
