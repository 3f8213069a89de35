"""The ``Mailproof`` extension: wire settings, state, login, CSRF, views and CLI into an app."""

from __future__ import annotations

import typing as t

from flask import Flask, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from .cli import mailproof_cli
from .errors import ConfigurationError, HeaderInjection
from .flows.accounts import find_user_by_id
from .i18n import gettext, init_translations, lazy_gettext
from .limits import RateLimits
from .mail.outbox import Outbox
from .mail.transports import transport_from_config
from .mail.worker import wire_delivery
from .passwords import Passwords
from .settings import Settings, check_signing_keys
from .state import MailproofState
from .tokens import Tokens, same
from .web import (
    account_views,
    confirmation_views,
    contact_views,
    dev_mailbox_views,
    email_change_views,
    password_views,
)
from .web.blueprint import bp
from .web.headers import add_security_headers

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from werkzeug.exceptions import RequestEntityTooLarge

    from .models import Models, UserMixin

# The view modules register their routes on ``bp`` when imported.
_VIEW_MODULES = (
    account_views,
    confirmation_views,
    dev_mailbox_views,
    password_views,
    email_change_views,
    contact_views,
)


class Mailproof:
    """Email-verified accounts for a Flask application.

    :param app: the application, or ``None`` to call :meth:`init_app` later.
    :param db: the application's Flask-SQLAlchemy instance.
    :param models: what :func:`~flask_mailproof.models.define_models` returned on ``db``.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        db: SQLAlchemy | None = None,
        models: Models | None = None,
    ) -> None:
        self.db = db
        self.models = models
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the settings and register the views, login handling, CSRF and CLI on ``app``."""
        if self.db is None or self.models is None:
            raise ConfigurationError("Mailproof needs db= and models= (see define_models).")
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        secret_key = check_signing_keys(app.secret_key, fallbacks, debug=app.debug)
        settings = Settings.from_config(app.config, debug=app.debug)
        outbox = Outbox(
            self.db,
            self.models.outbox,
            sender=settings.mail_sender or "no-reply@localhost",
            subject_prefix=settings.subject_prefix,
            link_root=settings.link_root(debug=app.debug),
        )
        delivery_thread = wire_delivery(app, settings, outbox)
        app.extensions["mailproof"] = MailproofState(
            app=app,
            settings=settings,
            db=self.db,
            models=self.models,
            tokens=Tokens(secret_key, fallbacks),
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_cost,
                parallelism=settings.argon2_parallelism,
                min_length=settings.password_min_length,
                max_bytes=settings.password_max_bytes,
                min_score=settings.password_min_score,
            ),
            outbox=outbox,
            transport=transport_from_config(app.config),
            delivery_thread=delivery_thread,
            limits=RateLimits.for_app(app, settings),
        )
        init_translations(app, settings.locales)
        _init_login(app)
        if "csrf" not in app.extensions:
            CSRFProtect(app)
        app.register_blueprint(bp)
        app.register_error_handler(CSRFError, _csrf_error)
        app.register_error_handler(413, _too_large)
        app.register_error_handler(HeaderInjection, _header_injection)
        app.after_request(add_security_headers)
        app.cli.add_command(mailproof_cli)


def _init_login(app: Flask) -> None:
    manager: LoginManager | None = getattr(app, "login_manager", None)
    if manager is None:
        manager = LoginManager(app)
        manager.login_view = "mailproof.login"
        manager.login_message_category = "info"
        # Translated when flashed, in the language of that request.
        manager.login_message = lazy_gettext("Please log in to see this page.")
        manager.localize_callback = str
    # Session ids are "<id>:<stamp>", so a rotated stamp ends every session and remember-me
    # cookie of that account.
    manager.user_loader(_load_user)


def _load_user(session_id: str) -> UserMixin | None:
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit() or not stamp:
        return None
    user = find_user_by_id(int(user_id))
    if user is None or not same(user.session_stamp, stamp):
        return None
    return user


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    if _unreadable_form():
        return render_template(
            "mailproof/error.html",
            title=gettext("We could not read what you sent"),
            message=gettext(
                "Part of it was not valid UTF-8 text. Go back, reload the page and retype it."
            ),
        ), 400
    return render_template(
        "mailproof/error.html",
        title=gettext("This form has expired"),
        message=gettext("Go back, reload the page and try again."),
    ), 400


def _unreadable_form() -> bool:
    """Tell whether a form body was sent but Werkzeug could not decode it (not UTF-8).

    Werkzeug then drops the whole url-encoded form, CSRF token included, so the CSRF check is
    the first to notice; "this form has expired" would send people looking in the wrong place.
    """
    return bool(
        request.mimetype == "application/x-www-form-urlencoded"
        and request.content_length
        and not request.form
    )


def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    return render_template(
        "mailproof/error.html",
        title=gettext("Too much data"),
        message=gettext("What you sent is larger than this site accepts."),
    ), 413


def _header_injection(error: HeaderInjection) -> tuple[str, int]:
    # Raised before the flow commits, so the request's session rolls back: nothing written.
    return render_template(
        "mailproof/error.html",
        title=gettext("This cannot go into a mail"),
        message=gettext("A value you typed holds a line break or a control character."),
    ), 400
