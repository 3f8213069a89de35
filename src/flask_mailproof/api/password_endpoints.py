"""Resetting a forgotten password, by link or code, and changing a known one."""

from __future__ import annotations

from flask import Response

from ..flows.password_change import change_password
from ..flows.password_reset import (
    request_password_reset,
    reset_password,
    reset_password_with_code,
)
from ..guards import counting_failures, fresh_mailbox_proof, limit_ip
from ..sessions import begin_session
from .access import confirmed_user
from .blueprint import api_bp, documented
from .responses import json_response, parse_body
from .schemas import (
    ChangePasswordRequest,
    EmailRequest,
    Error,
    Message,
    ResetCodeRequest,
    ResetRequest,
)

#: The answer to every reset request, whether or not the address has an account.
RESET_REQUESTED = "If that address has an account, a link to reset its password is on its way."
#: After a reset nobody is logged in: the person logs in with the new password (OWASP).
AFTER_RESET = "Your password was changed; log in with the new one."


@api_bp.post("/reset-request")
@documented(body=EmailRequest, responses={202: Message}, tags=("password",))
def reset_request() -> Response:
    """Ask for a reset link (and code); the same answer for every address."""
    limit_ip("reset")
    email = parse_body(EmailRequest).email
    request_password_reset(email)
    return json_response(Message(message=RESET_REQUESTED), 202)


@api_bp.post("/reset")
@documented(body=ResetRequest, responses={200: Message, 409: Error, 410: Error}, tags=("password",))
def reset() -> Response:
    """Set a new password with a reset token; ends every session, logs nobody in."""
    body = parse_body(ResetRequest)
    reset_password(body.token, body.password)
    return json_response(Message(message=AFTER_RESET))


@api_bp.post("/reset-code")
@documented(body=ResetCodeRequest, responses={200: Message, 410: Error}, tags=("password",))
def reset_code() -> Response:
    """Set a new password with the 6-digit code from a reset mail."""
    body = parse_body(ResetCodeRequest)
    with counting_failures(body.email):
        reset_password_with_code(body.email, body.code, body.password)
    return json_response(Message(message=AFTER_RESET))


@api_bp.post("/change-password")
@documented(
    body=ChangePasswordRequest, responses={200: Message, 401: Error, 403: Error}, tags=("password",)
)
def change_password_endpoint() -> Response:
    """Change the password; every other session ends, this one goes on with a fresh cookie.

    An account without a password sets its first one: instead of the current password, its
    login must have begun by an emailed link or code lately (MAILPROOF_FRESH_LOGIN_MAX_AGE).
    """
    user = confirmed_user()
    body = parse_body(ChangePasswordRequest)
    with counting_failures(user.email):
        change_password(
            user, body.current_password, body.password, mailbox_proven=fresh_mailbox_proof()
        )
    begin_session(user, remember=False)
    return json_response(Message(message="Your password was changed."))
