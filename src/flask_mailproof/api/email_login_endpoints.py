"""Sign in by mail through the API: ask for a link, use its token, or use the mailed code."""

from __future__ import annotations

from flask import Response, abort

from ..flows.email_login import SignIn, request_login_link, sign_in_with_code, sign_in_with_link
from ..flows.suppression import address_bounce
from ..guards import counting_failures, limit_ip
from ..sessions import begin_session, logged_in_account_id, login_device, signup_receipt
from ..settings import CodeMode, PasswordlessMode
from ..state import current_state
from .account_endpoints import account
from .blueprint import api_bp, documented
from .responses import json_response, parse_body
from .schemas import Account, CodeRequest, Error, LoginLinkConfirmRequest, LoginLinkRequest, Message

#: The answer to every sign-in link request, whether or not the address has an account.
LINK_REQUESTED = (
    "If that address has an account, a sign-in link is on its way; open it on this device."
)


def _require_passwordless() -> None:
    if current_state().settings.passwordless is PasswordlessMode.OFF:
        abort(404)


@api_bp.post("/login/email")
@documented(body=LoginLinkRequest, responses={202: Message, 404: Error}, tags=("session",))
def login_email() -> Response:
    """Mail a sign-in link (and a code where codes are on); the same answer for every address.

    The link signs in without a question only from the session that asked (its cookie holds a
    nonce the link is bound to).
    """
    _require_passwordless()
    limit_ip("login_link")
    body = parse_body(LoginLinkRequest)
    request_login_link(body.email, device=login_device(create=True) or "", next_url=body.next or "")
    return json_response(Message(message=LINK_REQUESTED), 202)


@api_bp.post("/login/email/confirm")
@documented(
    body=LoginLinkConfirmRequest,
    responses={200: Account, 404: Error, 409: Error, 410: Error},
    tags=("session",),
)
def login_email_confirm() -> Response:
    """Sign in with a sign-in link's token, on a fresh session cookie.

    409 ``other_device``: another session asked for the link; send ``other_device: true``
    once the person confirmed it. 409 ``token_used``: used, superseded, or the account's
    password, address or sessions changed since.
    """
    _require_passwordless()
    body = parse_body(LoginLinkConfirmRequest)
    done = sign_in_with_link(
        body.token,
        device=login_device(),
        other_device=body.other_device,
        receipt=signup_receipt(),
        logged_in_as=logged_in_account_id(),
    )
    return _signed_in(done)


@api_bp.post("/login/email/code")
@documented(body=CodeRequest, responses={200: Account, 404: Error, 410: Error}, tags=("session",))
def login_email_code() -> Response:
    """Sign in with the 6-digit code from a sign-in mail; a wrong code is a failed login."""
    _require_passwordless()
    # The body first, so malformed input answers 400 as on every endpoint; then whether
    # codes are mailed at all.
    body = parse_body(CodeRequest)
    if current_state().settings.verification_codes is CodeMode.OFF:
        abort(404)
    with counting_failures(body.email):
        done = sign_in_with_code(
            body.email, body.code, receipt=signup_receipt(), logged_in_as=logged_in_account_id()
        )
    return _signed_in(done)


def _signed_in(done: SignIn) -> Response:
    begin_session(done.user, remember=False, method=done.method)
    return json_response(account(done.user, bounce=address_bounce(done.user.email)))
