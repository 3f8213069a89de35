"""What the views share: rendering with a status, safe redirects, flow errors on fields."""

from __future__ import annotations

import typing as t

from flask import render_template, request
from werkzeug.wrappers import Response

from ..errors import InvalidAddress, PasswordRejected
from ..redirects import is_safe_next as is_safe_next

#: Status of a form re-rendered with errors: the request was understood but not acceptable.
FORM_ERROR_STATUS = 422


def page(template: str, status: int = 200, **context: t.Any) -> Response:
    """Render ``mailproof/<template>`` with ``status``."""
    return Response(
        render_template(f"mailproof/{template}", **context),
        status=status,
        mimetype="text/html",
    )


def add_field_error(field: t.Any, message: str) -> None:
    """Show ``message`` next to ``field`` (WTForms keeps errors as a list or tuple)."""
    field.errors = [*field.errors, message]


def show_flow_error(form: t.Any, error: InvalidAddress | PasswordRejected) -> None:
    """Put a flow's refusal of a value next to the field it came from."""
    field = form.email if isinstance(error, InvalidAddress) else form.password
    add_field_error(field, error.reason)


def keep_referrer_on_site(response: Response) -> Response:
    """Keep this page's URL (and any token in it) out of the ``Referer`` sent to other sites.

    ``same-origin`` rather than ``no-referrer``: Flask-WTF's CSRF check wants a same-site
    ``Referer`` over HTTPS.
    """
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def fresh_login_page() -> Response:
    """Say that this change needs a sign-in by an emailed link first, and offer one.

    Shown to accounts that prove themselves by their mailbox (no password, or
    ``MAILPROOF_PASSWORDLESS = "only"``) when their login is not fresh: after the link, the
    sign-in comes back to this page. A form posted without one is refused (403).
    """
    status = 403 if request.method == "POST" else 200
    return page("fresh_login_required.html", status, next_url=request.path)
