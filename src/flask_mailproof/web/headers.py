"""Security headers on every response, unless the application set its own."""

from __future__ import annotations

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


def add_security_headers(response: Response) -> Response:
    """Add the security headers ``response`` lacks; never replace one the app set."""
    policy = current_state().settings.content_security_policy
    if policy:
        response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
