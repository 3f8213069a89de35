"""The Flask-Mailproof demo: every flow, ready with ``make run``.

A user of the extension like any other: it imports the public API only.
"""

from __future__ import annotations

import typing as t

from flask import Flask
from flask_migrate import Migrate

from flask_mailproof import Mailproof
from flask_mailproof.api import MailproofAPI

from .config import apply_proxy_fix, load_config
from .error_pages import install_error_pages
from .logs import configure_logging
from .models import db, models
from .views import site

migrate = Migrate()
mailproof = Mailproof(db=db, models=models)
api = MailproofAPI()


def create_app(config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Create the demo application; ``config`` overrides what the environment gives."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, overrides=config)
    configure_logging(app.config["LOG_FORMAT"])
    apply_proxy_fix(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    mailproof.init_app(app)
    api.init_app(app)
    app.register_blueprint(site)
    install_error_pages(app)
    return app
