"""Confirming an address by token or code, and asking for a new link."""

from __future__ import annotations

from flask import Response
from flask_login import current_user

from ..flows.confirmation import (
    confirm_email,
    confirm_email_with_code,
    resend_confirmation,
    resend_to_address,
)
from ..guards import counting_failures, limit_ip
from ..models import UserMixin
from ..sessions import begin_session, logged_in_account_id, signup_receipt
from .blueprint import api_bp, documented
from .responses import ApiError, json_response, parse_body
from .schemas import CodeRequest, Error, Message, OptionalEmailRequest, TokenRequest

#: After a contested sign-up confirmed by a client that did not choose the password in force.
CONFIRMED_CONTESTED = (
    "Your address is confirmed. It was signed up for more than once, so no password was kept: "
    "a link to choose one is on its way."
)
#: The answer to a logged-out resend, whatever the address.
RESENT_IF_ANY = "If that address has an account waiting for confirmation, a new link is on its way."


@api_bp.post("/confirm")
@documented(
    body=TokenRequest, responses={200: Message, 409: Error, 410: Error}, tags=("confirmation",)
)
def confirm() -> Response:
    """Confirm the address a confirmation token names; sessions opened before it end."""
    token = parse_body(TokenRequest).token
    logged_in_as = logged_in_account_id()
    user = confirm_email(token, receipt=signup_receipt(), logged_in_as=logged_in_as)
    return _confirmed(user, logged_in_as)


@api_bp.post("/confirm-code")
@documented(
    body=CodeRequest, responses={200: Message, 409: Error, 410: Error}, tags=("confirmation",)
)
def confirm_code() -> Response:
    """Confirm an address with the 6-digit code from its mail (MAILPROOF_VERIFICATION_CODES)."""
    body = parse_body(CodeRequest)
    logged_in_as = logged_in_account_id()
    with counting_failures(body.email):
        user = confirm_email_with_code(
            body.email, body.code, receipt=signup_receipt(), logged_in_as=logged_in_as
        )
    return _confirmed(user, logged_in_as)


def _confirmed(user: UserMixin, logged_in_as: int | None) -> Response:
    """Keep the confirming client logged in if it was; say whether the password was kept."""
    if logged_in_as == user.id:
        begin_session(user, remember=False)
    if user.password_hash is None:
        return json_response(Message(message=CONFIRMED_CONTESTED))
    return json_response(Message(message="Your address is confirmed."))


@api_bp.post("/resend")
@documented(body=OptionalEmailRequest, responses={202: Message, 409: Error}, tags=("confirmation",))
def resend() -> Response:
    """Send a new confirmation link: to the logged-in account, or to ``email`` if it has one."""
    limit_ip("resend")
    body = parse_body(OptionalEmailRequest)
    if current_user.is_authenticated:
        resend_confirmation(current_user)
        return json_response(Message(message="A new link is on its way."), 202)
    if body.email is None:
        raise ApiError(
            422, "validation_error", "Give the address.", fields={"email": ["Required."]}
        )
    resend_to_address(body.email)
    return json_response(Message(message=RESENT_IF_ANY), 202)
