"""Build the absolute links that go into mail, from ``MAILPROOF_BASE_URL`` alone.

The request's ``Host``, scheme and ``X-Forwarded-*`` headers are attacker-controlled, so they
never reach a mailed link (the Host-header poisoning behind many reset-link takeovers).
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote, urlsplit

from flask import current_app

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
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            if unit == "day" and count == 1:
                return "24 hours"
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
