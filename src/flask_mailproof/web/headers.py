"""Security headers on the extension's responses (or every one), caching headers where private.

Never replaces a header the application set itself.
"""

from __future__ import annotations

from flask import current_app, g, request
from werkzeug.wrappers import Response

from ..state import current_state

#: Headers that cost nothing and close whole classes of attack: MIME sniffing of user
#: content, framing (clickjacking), and leaking URLs (tokens) to other sites via Referer.
#: ``same-origin`` keeps the Referer on our own forms, which Flask-WTF's HTTPS check needs.
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

#: A year, the value preload lists ask for; subdomains too, or a cookie could leak to one.
HSTS = "max-age=31536000; includeSubDomains"

#: The blueprints of this extension's pages and API.
OWN_BLUEPRINTS = ("mailproof", "mailproof_api")


def add_security_headers(response: Response) -> Response:
    """Add the security headers ``response`` lacks; never replace one the app set, but one.

    The policy and its companions go on the extension's own pages and API answers; on the host
    application's pages only with ``security_headers_app_wide``: a policy written for our
    templates would block a host page's inline styles, scripts and CDN stylesheets.

    The one header replaced: a page whose URL carries a mailed link's token keeps its Referer
    on this site, whatever the application's default. Its page may sit in the host's layout,
    with resources from other sites, and the token must not go to them.
    """
    settings = current_state().settings
    if settings.security_headers_app_wide or request.blueprint in OWN_BLUEPRINTS:
        _add_protection(response)
    if request.blueprint in OWN_BLUEPRINTS and (request.view_args or {}).get("token"):
        response.headers["Referrer-Policy"] = "same-origin"
    if _private():
        # A shared or back-button cache would keep a page with someone's address, a CSRF
        # token or a link's token, and show it to the next person at that browser or proxy.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _add_protection(response: Response) -> None:
    settings = current_state().settings
    policy = settings.content_security_policy
    if policy:
        response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if settings.hsts and (settings.base_url or "").startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)


def _private() -> bool:
    """Tell whether this response shows account data or carries a form's token.

    Static files stay cacheable without a rule of ours: Flask gives each its own
    ``Cache-Control``, which ``setdefault`` keeps.
    """
    # Set by CSRFProtect, which the extension starts when the application has not.
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    # Looked up where Flask-Login left it: loading the user here would cost a query.
    user = g.get("_login_user")
    return (
        request.blueprint in OWN_BLUEPRINTS
        or field in g
        or bool(user is not None and user.is_authenticated)
    )
