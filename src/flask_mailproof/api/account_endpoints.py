"""Registration, login, logout, the current account, and the CSRF token."""

from __future__ import annotations

from flask import Response
from flask_wtf.csrf import generate_csrf

from ..flows.login import authenticate
from ..flows.login_sessions import end_every_login_session
from ..flows.registration import register_user
from ..flows.suppression import address_bounce
from ..guards import counting_failures, limit_ip
from ..models import SuppressionMixin, UserMixin
from ..sessions import begin_session, end_session, keep_signup_receipt
from .access import logged_in_user
from .blueprint import api_bp, documented
from .responses import json_response, parse_body
from .schemas import (
    Account,
    CsrfToken,
    Error,
    LoginRequest,
    Message,
    RegisterRequest,
    Undeliverable,
)

#: The answer to every registration, whether or not the address had an account.
REGISTERED = "Check your inbox: we sent a link to confirm your address."


def account(user: UserMixin, *, bounce: SuppressionMixin | None = None) -> Account:
    return Account(
        email=user.email,
        confirmed=user.is_confirmed,
        has_password=user.password_hash is not None,
        confirmed_at=user.confirmed_at,
        registered_at=user.registered_at,
        undeliverable=None
        if bounce is None
        else Undeliverable(
            since=bounce.suppressed_at, reply_code=bounce.reply_code, reason=bounce.reason
        ),
    )


@api_bp.get("/csrf")
@documented(responses={200: CsrfToken}, tags=("session",))
def csrf() -> Response:
    """Return the CSRF token to send in ``X-CSRFToken`` with every state-changing call."""
    return json_response(CsrfToken(csrf_token=generate_csrf()))


@api_bp.post("/register")
@documented(body=RegisterRequest, responses={202: Message}, tags=("accounts",))
def register() -> Response:
    """Register an address; the same answer whether or not it already had an account."""
    limit_ip("signup")
    body = parse_body(RegisterRequest)
    keep_signup_receipt(register_user(body.email, body.password))
    return json_response(Message(message=REGISTERED), 202)


@api_bp.post("/login")
@documented(body=LoginRequest, responses={200: Account, 401: Error}, tags=("session",))
def login() -> Response:
    """Log in on a fresh session cookie; unconfirmed accounts may log in."""
    body = parse_body(LoginRequest)
    with counting_failures():
        user = authenticate(body.email, body.password)
    begin_session(user, remember=body.remember)
    return json_response(account(user, bounce=address_bounce(user.email)))


@api_bp.post("/logout")
@documented(responses={200: Message}, tags=("session",))
def logout() -> Response:
    """End the session."""
    end_session()
    return json_response(Message(message="You are logged out."))


@api_bp.post("/logout-everywhere")
@documented(responses={200: Message, 401: Error}, tags=("session",))
def logout_everywhere() -> Response:
    """End every session of the account on every device, this one and remember-me included."""
    end_every_login_session(logged_in_user())
    end_session()
    return json_response(Message(message="You are logged out on every device."))


@api_bp.get("/me")
@documented(responses={200: Account, 401: Error}, tags=("accounts",))
def me() -> Response:
    """Return the logged-in account, and whether mail to its address bounced."""
    user = logged_in_user()
    # Only the account's own address, to the account itself (see docs/security.md).
    return json_response(account(user, bounce=address_bounce(user.email)))
