"""The development mailbox at ``/_mail``: the outbox, readable in a browser."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import re
import typing as t

from flask import abort, current_app, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..i18n import gettext
from ..mail.transports import DevMailboxTransport, SMTPTransport, Transport
from ..models import OutboxMixin, OutboxStatus
from ..state import current_state
from .blueprint import bp
from .pages import page

_LINK = re.compile(r"https?://[^\s<>\"']+")
_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)

#: Put into the previewed HTML's ``<head>``: links open at the top level, since every page
#: they lead to refuses to be framed (``frame-ancestors 'none'``).
_PREVIEW_HEAD = '<base target="_top">'

#: No scripts, forms, plugins or same-origin access for the mail; a person's click on a link
#: may still open it at the top level, or in a new tab for ``target="_blank"``.
PREVIEW_SANDBOX = (
    "allow-top-navigation-by-user-activation allow-popups allow-popups-to-escape-sandbox"
)

#: Mail HTML is styled inline, as mail clients need; the preview frame is sandboxed (no
#: scripts, no same-origin), so allowing inline styles on this debug-only page costs nothing.
_PREVIEW_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

#: The HTML part on a page of its own, whole and unframed: sandboxed like the frame, and
#: nothing loaded but inline styles and inline images.
_WHOLE_MAIL_POLICY = (
    f"sandbox {PREVIEW_SANDBOX}; default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


#: Headers a reverse proxy adds; with them, a loopback ``remote_addr`` is the proxy's own.
_FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def _require_enabled() -> None:
    # Every mailed link is in there: a debug flag left on under gunicorn must not hand them
    # to the world, so only this machine and the development server see it unless asked for.
    settings = current_state().settings
    if not settings.dev_mailbox_enabled(debug=current_app.debug):
        abort(404)
    if not (settings.dev_mailbox_any_client or _development_server() or _loopback_client()):
        abort(404)


def _development_server() -> bool:
    """Tell whether Werkzeug's development server (``flask run``) serves this request."""
    return str(request.environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/")


def _loopback_client() -> bool:
    """Tell whether the request comes from this machine, and not through a proxy on it."""
    proxied = any(name in request.headers for name in _FORWARDING_HEADERS)
    if proxied and "werkzeug.proxy_fix.orig" not in request.environ:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@bp.route("/_mail")
def dev_mailbox() -> Response:
    _require_enabled()
    state = current_state()
    model = state.models.outbox
    rows = state.db.session.scalars(select(model).order_by(model.id.desc()).limit(100))
    return page(
        "dev_mailbox.html",
        messages=[(row, describe_status(row, state.transport)) for row in rows],
    )


@bp.route("/_mail/<int:message_id>")
def dev_mail(message_id: int) -> Response:
    _require_enabled()
    row, parsed = _stored_mail(message_id)
    text = _part(parsed, "plain")
    html = _part(parsed, "html")
    response = page(
        "dev_mail.html",
        message=row,
        delivery=describe_status(row, current_state().transport),
        headers=[(k, str(v)) for k, v in parsed.items()],
        text=text,
        html=preview_html(html),
        sandbox=PREVIEW_SANDBOX,
        links=list(dict.fromkeys(_LINK.findall(text))),
    )
    response.headers["Content-Security-Policy"] = _PREVIEW_POLICY
    return response


@bp.route("/_mail/<int:message_id>/html")
def dev_mail_html(message_id: int) -> Response:
    """Show a mail's HTML part alone, as a mail client would: no frame, no height to clip it."""
    _require_enabled()
    _row, parsed = _stored_mail(message_id)
    html = _part(parsed, "html")
    if not html:
        abort(404)
    response = Response(preview_html(html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = _WHOLE_MAIL_POLICY
    return response


def _stored_mail(message_id: int) -> tuple[OutboxMixin, t.Any]:
    """Return the outbox row ``message_id`` and its parsed message, or answer 404."""
    state = current_state()
    row = state.db.session.get(state.models.outbox, message_id)
    if row is None:
        abort(404)
    return row, email.message_from_string(row.raw, policy=email.policy.default)


def _part(message: t.Any, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return str(body.get_content()) if body is not None else ""


def preview_html(html: str) -> str:
    """Return the mail's HTML part as the preview frame shows it (see ``_PREVIEW_HEAD``)."""
    if not html:
        return html
    head = _HEAD.search(html)
    if head is None:
        return _PREVIEW_HEAD + html
    return html[: head.end()] + _PREVIEW_HEAD + html[head.end() :]


def describe_status(row: OutboxMixin, transport: Transport) -> str:
    """Say what became of a mail, in words: shown only here, or sent (or not) to a server.

    The outbox does not record the transport, so this speaks of the one configured now.
    """
    if isinstance(transport, DevMailboxTransport):
        return gettext("shown here (not sent)")
    server = _server(transport)
    if row.status == OutboxStatus.SENT:
        return gettext("sent to %(server)s", server=server)
    if row.status == OutboxStatus.FAILED:
        return gettext("not sent: %(server)s refused it or could not be reached", server=server)
    return gettext("waiting to be sent to %(server)s", server=server)


def _server(transport: Transport) -> str:
    if isinstance(transport, SMTPTransport):
        return f"{transport.host}:{transport.port}"
    return transport.name
