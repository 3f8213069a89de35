"""Changing the address (or fixing a mistyped one before it is confirmed), and undoing it."""

from __future__ import annotations

from flask import Response

from ..flows.email_change import (
    confirm_email_change,
    request_email_change,
    revert_email_change,
)
from ..guards import counting_failures, fresh_mailbox_proof, limit_ip
from .access import logged_in_user
from .blueprint import api_bp, documented
from .responses import json_response, parse_body
from .schemas import ChangeEmailRequest, Error, Message, TokenRequest

#: The same answer whether or not the new address has an account (its owner is told instead).
CHANGE_REQUESTED = "A link is on its way to the new address; nothing changes until it is opened."


@api_bp.post("/change-email")
@documented(
    body=ChangeEmailRequest,
    responses={202: Message, 401: Error, 403: Error, 429: Error},
    tags=("address",),
)
def change_email() -> Response:
    """Mail a link to the new address, which the account moves to when it is used.

    Unconfirmed accounts fix a mistyped address this way too. An account without a password
    sends no current password: its login must have begun by an emailed link or code lately.
    """
    limit_ip("email_change")
    user = logged_in_user()
    body = parse_body(ChangeEmailRequest)
    with counting_failures(user.email):
        request_email_change(
            user, body.email, body.current_password, mailbox_proven=fresh_mailbox_proof()
        )
    return json_response(Message(message=CHANGE_REQUESTED), 202)


@api_bp.post("/change-email/confirm")
@documented(body=TokenRequest, responses={200: Message, 409: Error, 410: Error}, tags=("address",))
def confirm_change() -> Response:
    """Move the account the token names to the address it names."""
    confirm_email_change(parse_body(TokenRequest).token)
    return json_response(Message(message="Your address was changed."))


@api_bp.post("/change-email/undo")
@documented(body=TokenRequest, responses={200: Message, 409: Error, 410: Error}, tags=("address",))
def undo_change() -> Response:
    """Put the old address back (the link mailed to it) and end every session."""
    revert_email_change(parse_body(TokenRequest).token)
    return json_response(Message(message="Your old address is back; every session was ended."))
