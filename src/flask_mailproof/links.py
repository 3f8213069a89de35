"""Build the absolute links that go into mail, from ``MAILPROOF_BASE_URL`` alone.

The request's ``Host``, scheme and ``X-Forwarded-*`` headers are attacker-controlled, so they
never reach a mailed link (the Host-header poisoning behind many reset-link takeovers).
"""

from __future__ import annotations

import math
import os
import typing as t
from urllib.parse import quote, urlsplit

import click
from flask import current_app

from .claims import Purpose
from .i18n import gettext, ngettext
from .state import current_state

#: The page each purpose's mailed link opens, and the name ``MAILPROOF_FRONTEND_URLS`` gives
#: it when a front end serves that page instead.
MAILED_LINKS: dict[Purpose, tuple[str, str]] = {
    Purpose.CONFIRM: ("mailproof.confirm", "confirm"),
    Purpose.RESET: ("mailproof.reset_password", "reset"),
    Purpose.EMAIL_CHANGE: ("mailproof.confirm_email_change", "email_change"),
    Purpose.EMAIL_REVERT: ("mailproof.revert_email_change", "email_revert"),
    Purpose.CONTACT: ("mailproof.contact_verify", "contact_verify"),
    # One page for both: it tells a sign-in link from a sign-up one by the token's purpose.
    Purpose.LOGIN: ("mailproof.login_email_link", "login"),
    Purpose.LOGIN_SIGNUP: ("mailproof.login_email_link", "login"),
}


#: What ``MAILPROOF_PASSWORDLESS = "only"`` removes (each answers 404): the password pages and
#: API endpoints. The login page stays, with the sign-in by mail as its only option.
PASSWORD_ENDPOINTS = frozenset(
    {
        "mailproof.change_password",
        "mailproof.reset_request",
        "mailproof.reset_password",
        "mailproof_api.login",
        "mailproof_api.change_password_endpoint",
        "mailproof_api.reset_request",
        "mailproof_api.reset",
        "mailproof_api.reset_code",
    }
)


def is_served(endpoint: str) -> bool:
    """Tell whether the application serves ``endpoint``: registered, and not removed by
    ``MAILPROOF_PASSWORDLESS = "only"``. Pages and mails link to optional flows only then."""
    if endpoint not in current_app.view_functions:
        return False
    return current_state().settings.passwords_enabled or endpoint not in PASSWORD_ENDPOINTS


def mailed_link(purpose: Purpose, token: str) -> str:
    """Return the absolute link that carries ``token`` to its page.

    Where ``MAILPROOF_FRONTEND_URLS`` names a front-end page for the purpose, that page's
    pattern is used instead, with the token filled in.
    """
    endpoint, frontend_name = MAILED_LINKS[purpose]
    pattern = current_state().settings.frontend_urls.get(frontend_name)
    if pattern is not None:
        return pattern.replace("{token}", quote(token, safe=""))
    return external_url(endpoint, token=token)


def external_url(endpoint: str, **values: t.Any) -> str:
    """Return the absolute URL of ``endpoint`` under the configured base URL."""
    app = current_app
    root = current_state().link_root
    parts = urlsplit(root)
    adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def development_server_root() -> str:
    """Return the address of the development server this process is starting.

    Its port comes from ``flask run --port`` (or ``FLASK_RUN_PORT``, which click reads into
    the same option) while that command loads the app; only then is the command known, as
    requests run in other threads. Without it, Flask's default port.
    """
    context = click.get_current_context(silent=True)
    port = (
        context.params.get("port") if context is not None and context.info_name == "run" else None
    )
    return f"http://127.0.0.1:{port or os.environ.get('FLASK_RUN_PORT') or 5000}"


def describe_duration(seconds: int) -> str:
    """Return ``"24 hours"``, ``"15 minutes"``...: how long a link lives, for the mail's text."""
    if seconds == 86400:
        return gettext("24 hours")
    if seconds >= 86400 and seconds % 86400 == 0:
        return ngettext("%(num)d day", "%(num)d days", seconds // 86400)
    if seconds >= 3600 and seconds % 3600 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", seconds // 3600)
    if seconds >= 60 and seconds % 60 == 0:
        return ngettext("%(num)d minute", "%(num)d minutes", seconds // 60)
    return ngettext("%(num)d second", "%(num)d seconds", seconds)


def describe_wait(seconds: int) -> str:
    """Return ``"3 minutes"``, ``"40 seconds"``: how long to wait, in whole minutes from one up.

    Rounded up, so nobody comes back a moment too early and is refused again.
    """
    if seconds >= 60:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    return ngettext("%(num)d second", "%(num)d seconds", seconds)
