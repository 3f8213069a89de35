"""Build the absolute links that go into mail, from ``MAILPROOF_BASE_URL`` alone.

The request's ``Host``, scheme and ``X-Forwarded-*`` headers are attacker-controlled, so they
never reach a mailed link (the Host-header poisoning behind many reset-link takeovers).
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote, urlsplit

from flask import current_app

from .i18n import gettext, ngettext
from .state import current_state

#: The names ``MAILPROOF_FRONTEND_URLS`` uses for the pages a mailed link can open.
FRONTEND_LINK_NAMES = {
    "mailproof.confirm": "confirm",
    "mailproof.reset_password": "reset",
    "mailproof.confirm_email_change": "email_change",
    "mailproof.revert_email_change": "email_revert",
    "mailproof.contact_verify": "contact_verify",
}


def external_url(endpoint: str, **values: t.Any) -> str:
    """Return the absolute URL of ``endpoint`` under the configured base URL.

    Where ``MAILPROOF_FRONTEND_URLS`` names a front-end page for the link, that page's
    pattern is used instead, with the token filled in.
    """
    app = current_app
    settings = current_state().settings
    pattern = settings.frontend_urls.get(FRONTEND_LINK_NAMES.get(endpoint, ""))
    if pattern is not None:
        return pattern.replace("{token}", quote(str(values["token"]), safe=""))
    root = settings.link_root(debug=app.debug)
    parts = urlsplit(root)
    adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


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
