"""``POST /_mailproof/bounce``: bounce reports from the mail provider (off without a secret).

A blueprint of its own, exempt from CSRF: the caller is a server holding the shared secret,
not a browser holding a session, and the HMAC signature is what proves who sent it.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from ..errors import InvalidBounceReport
from ..flows.bounce_reports import MAX_REPORT_BYTES, receive_bounce_report
from ..state import current_state

bounce_bp = Blueprint("mailproof_bounce", "flask_mailproof")


@bounce_bp.post("/_mailproof/bounce")
def bounce() -> Response:
    if not current_state().settings.bounce_webhook_secret:
        abort(404)  # off: as if the route did not exist
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        raise InvalidBounceReport(413, "payload_too_large", "One report is a small JSON object.")
    body = request.get_data(cache=False)
    if len(body) > MAX_REPORT_BYTES:
        raise InvalidBounceReport(413, "payload_too_large", "One report is a small JSON object.")
    suppressed = receive_bounce_report(
        body,
        request.headers.get("X-Mailproof-Timestamp"),
        request.headers.get("X-Mailproof-Signature"),
    )
    return jsonify(suppressed=suppressed)


@bounce_bp.errorhandler(InvalidBounceReport)
def _refused(error: InvalidBounceReport) -> tuple[Response, int]:
    return jsonify(code=error.code, message=str(error)), error.status
