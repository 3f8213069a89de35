"""The development mailbox at ``/_mail``: the outbox, readable in a browser."""

from __future__ import annotations

import email
import email.policy
import re
import typing as t

from flask import abort, current_app
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..state import current_state
from .blueprint import bp
from .pages import page

_LINK = re.compile(r"https?://[^\s<>\"']+")

#: Mail HTML is styled inline, as mail clients need; the preview frame is sandboxed (no
#: scripts, no same-origin), so allowing inline styles on this debug-only page costs nothing.
_PREVIEW_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _require_enabled() -> None:
    if not current_state().settings.dev_mailbox_enabled(debug=current_app.debug):
        abort(404)


@bp.route("/_mail")
def dev_mailbox() -> Response:
    _require_enabled()
    state = current_state()
    model = state.models.outbox
    rows = state.db.session.scalars(select(model).order_by(model.id.desc()).limit(100))
    return page("dev_mailbox.html", messages=list(rows))


@bp.route("/_mail/<int:message_id>")
def dev_mail(message_id: int) -> Response:
    _require_enabled()
    state = current_state()
    row = state.db.session.get(state.models.outbox, message_id)
    if row is None:
        abort(404)
    parsed = email.message_from_string(row.raw, policy=email.policy.default)
    text = _part(parsed, "plain")
    response = page(
        "dev_mail.html",
        message=row,
        headers=[(k, str(v)) for k, v in parsed.items()],
        text=text,
        html=_part(parsed, "html"),
        links=list(dict.fromkeys(_LINK.findall(text))),
    )
    response.headers["Content-Security-Policy"] = _PREVIEW_POLICY
    return response


def _part(message: t.Any, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return str(body.get_content()) if body is not None else ""
