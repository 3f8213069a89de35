"""The ``Mailproof`` extension: wire settings, state, login, CSRF, views and CLI into an app."""

from __future__ import annotations

import functools
import typing as t

from flask import Flask, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from .cli import mailproof_group
from .errors import ConfigurationError, HeaderInjection
from .flows.login_sessions import find_logged_in_user
from .i18n import gettext, init_translations, lazy_gettext
from .limits import RateLimits, limiter_for
from .links import development_server_root
from .mail.outbox import Outbox
from .mail.transports import transport_from_config
from .mail.worker import DeliveryThread
from .operations.health import HealthCheck, RedisProbe, redis_url
from .passwords import Passwords
from .schema import SchemaCheck
from .settings import DeliveryMode, Settings, check_signing_keys
from .startup_checks import warn_about_exposure
from .state import MailproofState, current_state
from .tokens import Tokens
from .web import (
    account_views,
    confirmation_views,
    contact_views,
    dev_mailbox_views,
    email_change_views,
    email_login_views,
    password_views,
)
from .web.blueprint import bp
from .web.bounce_webhook import bounce_bp
from .web.headers import add_security_headers
from .web.operations_views import operations_blueprint

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from prometheus_client import CollectorRegistry
    from werkzeug.exceptions import RequestEntityTooLarge

    from .models import Models
    from .operations.metrics import MailproofMetrics

# The view modules register their routes on ``bp`` when imported.
_VIEW_MODULES = (
    account_views,
    confirmation_views,
    dev_mailbox_views,
    password_views,
    email_change_views,
    contact_views,
    email_login_views,
)


class Mailproof:
    """Email-verified accounts for a Flask application.

    :param app: the application, or ``None`` to call :meth:`init_app` later.
    :param db: the application's Flask-SQLAlchemy instance.
    :param models: what :func:`~flask_mailproof.models.define_models` returned on ``db``.
    :param metrics_registry: a ``prometheus_client`` registry to put the extension's metrics
        on (the host's own, served by its exporter); with ``MAILPROOF_METRICS_PATH`` alone they
        get a registry of their own.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        db: SQLAlchemy | None = None,
        models: Models | None = None,
        metrics_registry: CollectorRegistry | None = None,
    ) -> None:
        self.db = db
        self.models = models
        self.metrics_registry = metrics_registry
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the settings and register the views, login handling, CSRF and CLI on ``app``."""
        if self.db is None or self.models is None:
            raise ConfigurationError("Mailproof needs db= and models= (see define_models).")
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        secret_key = check_signing_keys(app.secret_key, fallbacks, debug=app.debug)
        settings = Settings.from_config(app.config, debug=app.debug)
        link_root = settings.link_root(development_root=development_server_root())
        outbox = Outbox(
            self.db,
            self.models.outbox,
            sender=settings.mail_sender or "no-reply@localhost",
            subject_prefix=settings.subject_prefix,
            link_root=link_root,
            suppression_model=self.models.suppression,
        )
        delivery_thread = _wire_delivery(app, settings, outbox)
        transport = transport_from_config(app.config)
        warn_about_exposure(settings, transport, debug=app.debug)
        app.extensions["mailproof"] = MailproofState(
            app=app,
            settings=settings,
            link_root=link_root,
            db=self.db,
            models=self.models,
            tokens=Tokens(secret_key, fallbacks, settings.token_lifetimes()),
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_cost,
                parallelism=settings.argon2_parallelism,
                min_length=settings.password_min_length,
                max_bytes=settings.password_max_bytes,
                min_score=settings.password_min_score,
            ),
            outbox=outbox,
            transport=transport,
            delivery_thread=delivery_thread,
            limits=RateLimits.for_app(app, settings),
            schema=SchemaCheck(self.db, self.models),
            health=HealthCheck(
                self.db,
                self.models.outbox,
                RedisProbe(redis_url(app.config)),
                max_outbox_age=settings.health_max_outbox_age,
            ),
            metrics=_wire_metrics(app, settings, self.metrics_registry),
        )
        # Before CSRF's own check, so a form posted without tables gets the 503 page too.
        app.before_request(_require_tables)
        init_translations(app, settings.locales)
        _init_login(app)
        if "csrf" not in app.extensions:
            CSRFProtect(app)
        app.register_blueprint(bp)
        app.register_blueprint(bounce_bp)
        operations = operations_blueprint(settings)
        app.register_blueprint(operations)
        limiter_for(app).exempt(operations)
        # Signed by the mail provider with the shared secret, not by a browser's session.
        app.extensions["csrf"].exempt(bounce_bp)
        app.register_error_handler(CSRFError, _csrf_error)
        app.register_error_handler(413, _too_large)
        app.register_error_handler(HeaderInjection, _header_injection)
        app.after_request(add_security_headers)
        # A group of its own: what another extension adds (the API's commands) stays its app's.
        app.cli.add_command(mailproof_group())


def _wire_delivery(app: Flask, settings: Settings, outbox: Outbox) -> DeliveryThread | None:
    """Connect the outbox to the delivery ``MAILPROOF_DELIVERY`` chose; return the thread, if any.

    :raises ConfigurationError: Celery delivery without ``REDIS_URL``.
    """
    if settings.delivery is DeliveryMode.THREAD:
        thread = DeliveryThread(app, settings.delivery_interval)
        outbox.on_commit(thread.wake_after_response)
        # Mail left by a process that died goes out when this one first serves a request.
        app.before_request_funcs.setdefault(None, []).append(thread.start_once)
        return thread
    if settings.delivery is DeliveryMode.CELERY:
        if not app.config.get("REDIS_URL"):
            raise ConfigurationError("MAILPROOF_DELIVERY='celery' needs REDIS_URL (the broker).")
        # Celery is an optional dependency: only applications that choose it import it.
        from . import celery

        outbox.on_commit(functools.partial(celery.enqueue, app))
    return None


def _wire_metrics(
    app: Flask, settings: Settings, registry: CollectorRegistry | None
) -> MailproofMetrics | None:
    """Start counting metrics if a path or a registry asks for them; return them.

    :raises ConfigurationError: metrics asked for without ``prometheus-client`` installed.
    """
    if not settings.metrics_path and registry is None:
        return None
    try:
        # prometheus-client is an optional dependency (the ``metrics`` extra): only
        # applications that turn metrics on import it.
        from .operations import metrics
    except ImportError as exc:
        if exc.name != "prometheus_client":
            raise
        raise ConfigurationError(
            "Metrics (MAILPROOF_METRICS_PATH or metrics_registry) need prometheus-client: "
            "pip install 'flask-mailproof[metrics]'."
        ) from None
    metrics.check_multiprocess_dir()
    return metrics.MailproofMetrics(app, registry)


def _init_login(app: Flask) -> None:
    manager: LoginManager | None = getattr(app, "login_manager", None)
    if manager is None:
        manager = LoginManager(app)
        manager.login_view = "mailproof.login"
        manager.login_message_category = "info"
        # Translated when flashed, in the language of that request.
        manager.login_message = lazy_gettext("Please log in to see this page.")
        manager.localize_callback = str
    # Session ids are "<id>:<stamp>:<login secret>": a rotated stamp ends every session and
    # remember-me cookie of the account, a deleted login record ends that one login.
    manager.user_loader(find_logged_in_user)


def _require_tables() -> tuple[str, int, dict[str, str]] | None:
    """Answer the extension's requests with 503 while its tables are missing.

    The first request of each process finds out and logs it once (how to create them); a bare
    500 per request and an error per delivery sweep said nothing about the cause.
    """
    try:
        if current_state().schema.tables_exist():
            return None
    except SQLAlchemyError:
        return None  # The database is away: the views' own handling says so.
    if request.blueprint != bp.name:
        return None
    return (
        render_template(
            "mailproof/error.html",
            title=gettext("This site is not set up yet"),
            message=gettext("Its database has no accounts table. Please try again later."),
        ),
        503,
        {"Retry-After": "30"},
    )


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
