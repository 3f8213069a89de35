"""Start and end a login session; shared by the HTML views and the JSON API."""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
import typing as t

from flask import session
from flask_login import current_user, login_user, logout_user

from .flows.login_sessions import end_login_session, start_login_session
from .models import UserMixin

#: Session key of the sign-up receipt (see :func:`.flows.registration.register_user`).
_SIGNUP_RECEIPT = "mailproof_signup"
#: Session key of the address this browser signed up with, and when its mail went out.
_SIGNUP_ADDRESS = "mailproof_signup_address"
#: Session key of how this login began and when: ``[method, unix time]``.
_LOGIN_METHOD = "mailproof_login"
#: How a login can begin: a password, or a proof of the mailbox by an emailed link or code.
LoginMethod = t.Literal["password", "email_link", "email_code"]
#: Session key of this browser's sign-in device nonce (see :func:`login_device`).
_LOGIN_DEVICE = "mailproof_login_device"
#: Session key of the address this browser sent a contact message from, and when.
_CONTACT_ADDRESS = "mailproof_contact_address"


def begin_session(user: UserMixin, *, remember: bool, method: LoginMethod = "password") -> None:
    """Log ``user`` in on a fresh session: nothing planted in the cookie before survives.

    The login gets its own server-side record, whose secret the session and remember-me
    cookies carry, so that logging out can end it for good. A login this browser held before
    ends here: its remember-me cookie, replaced in the browser but perhaps copied, would
    otherwise outlive the logout of the login that replaced it.
    """
    if current_user.is_authenticated:
        end_login_session(current_user._get_current_object())
    session.clear()
    start_login_session(user)
    login_user(user, remember=remember)
    session[_LOGIN_METHOD] = [method, time.time()]


def login_device(*, create: bool = False) -> str | None:
    """Return the nonce that ties sign-in links to this browser; with ``create``, make one.

    A sign-in link carries a digest of it and signs in without a question only in a browser
    whose session holds it: a link forwarded, leaked or planted opens a page that asks first.
    One nonce per browser session, kept until the session is cleared (a sign-in clears it).
    """
    nonce = session.get(_LOGIN_DEVICE)
    if isinstance(nonce, str):
        return nonce
    if not create:
        return None
    nonce = secrets.token_urlsafe(16)
    session[_LOGIN_DEVICE] = nonce
    return nonce


def mailbox_proven_within(seconds: float) -> bool:
    """Whether this login began, at most ``seconds`` ago, with a proof of the mailbox.

    A sign-in by emailed link or code proves the mailbox as a password would prove knowledge:
    an account without a password uses it where others type their current password.
    """
    kept = session.get(_LOGIN_METHOD)
    if not (isinstance(kept, list) and len(kept) == 2):
        return False
    method, began = kept
    return (
        method in ("email_link", "email_code")
        and isinstance(began, int | float)
        and 0 <= time.time() - began <= seconds
    )


def end_session() -> None:
    """Log out: delete this login's record, the session and the remember-me cookie.

    The record goes first, so a copy of either cookie taken before is refused from now on.
    ``logout_user`` runs after ``session.clear``: it marks the remember-me cookie for deletion
    in the session, and clearing afterwards would wipe that mark (the browser would be logged
    straight back in).
    """
    if current_user.is_authenticated:
        end_login_session(current_user._get_current_object())
    session.clear()
    logout_user()


def keep_signup_receipt(receipt: str) -> None:
    """Remember in this browser's session that it made the sign-up ``receipt`` stands for."""
    session[_SIGNUP_RECEIPT] = receipt


def signup_receipt() -> str | None:
    """Return the receipt of the last sign-up this browser made, if any."""
    receipt = session.get(_SIGNUP_RECEIPT)
    return receipt if isinstance(receipt, str) else None


def keep_signup_address(email: str, sent_at: dt.datetime) -> None:
    """Remember the address this browser typed to sign up, and when a mail went to it.

    Only this browser's own session holds it, so the "check your inbox" page can name the
    address to the person who typed it, and to nobody else.
    """
    # To the millisecond, rounded up: whole seconds rounded down offered the button up to a
    # second before the flow accepted a resend, and rounded up they read "4 minutes" for 3.
    stamp = math.ceil(sent_at.replace(tzinfo=dt.UTC).timestamp() * 1000) / 1000
    session[_SIGNUP_ADDRESS] = [email, stamp]


def signup_address() -> tuple[str, dt.datetime] | None:
    """Return the address this browser signed up with and when its mail went, if any."""
    return _kept_address(_SIGNUP_ADDRESS)


def keep_contact_address(email: str, sent_at: dt.datetime) -> None:
    """Remember the address this browser sent a contact message from, and when its mail went.

    As with the sign-up address, only this browser's session holds it: ``/contact/sent`` can
    tell the sender that mail to it bounced, and nobody else.
    """
    session[_CONTACT_ADDRESS] = [email, sent_at.replace(tzinfo=dt.UTC).timestamp()]


def contact_address() -> tuple[str, dt.datetime] | None:
    """Return the address this browser sent a contact message from and when, if any."""
    return _kept_address(_CONTACT_ADDRESS)


def _kept_address(key: str) -> tuple[str, dt.datetime] | None:
    kept = session.get(key)
    if not (isinstance(kept, list) and len(kept) == 2):
        return None
    email, stamp = kept
    if not (isinstance(email, str) and isinstance(stamp, int | float)):
        return None
    return email, dt.datetime.fromtimestamp(stamp, dt.UTC).replace(tzinfo=None)


def logged_in_account_id() -> int | None:
    """Return the id of the account this browser is logged in as, if any."""
    return int(current_user.id) if current_user.is_authenticated else None
