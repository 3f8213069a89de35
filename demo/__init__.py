"""The Flask-Mailproof demo: every flow, ready with ``make run``.

A user of the extension like any other: it imports the public API only.
"""

from __future__ import annotations

import logging
import typing as t

from flask import Flask, render_template
from flask_migrate import Migrate
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from flask_mailproof import Mailproof
from flask_mailproof.api import MailproofAPI

from .config import apply_proxy_fix, load_config
from .models import db, models
from .views import site

log = logging.getLogger("demo")
migrate = Migrate()
mailproof = Mailproof(db=db, models=models)
api = MailproofAPI()


def create_app(config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Create the demo application; ``config`` overrides what the environment gives."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, overrides=config)
    apply_proxy_fix(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    mailproof.init_app(app)
    api.init_app(app)
    app.register_blueprint(site)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)
    return app


def _database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
    """Answer 503 with a page saying to retry, not a bare 500, while the database is away."""
    log.error("database unavailable: %s", error)
    page = render_template(
        "mailproof/error.html",
        title="Please try again in a minute",
        message="The site cannot reach its database right now, so nothing you sent was "
        "saved. Please try again shortly.",
    )
    return page, 503, {"Retry-After": "30"}
