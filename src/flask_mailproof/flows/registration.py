"""Create accounts without telling anyone whether an address already had one."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..addresses import parse_address
from ..clock import utcnow
from ..errors import AlreadyConfirmed, RateLimited
from ..links import external_url
from ..logs import auth_logger
from ..models import UserMixin, new_stamp
from ..signals import confirmation_sent, user_registered
from ..state import current_state
from .accounts import claim_send_slot, find_user_by_address
from .confirmation import (
    queue_confirmation_mail,
    resend_confirmation,
    spend_like_a_confirmation_mail,
)

log = auth_logger("flask_mailproof.registration")


def register_user(email: str, password: str) -> None:
    """Register ``email`` with ``password``, or tell the address's owner someone tried.

    Both outcomes return the same nothing, do the same costly work (one password hash) and
    write one mail, so neither the answer nor its timing reveals an existing account. Two
    racing registrations of one address meet at the unique index: one account, no error.

    :raises InvalidAddress: ``email`` is not an address we accept.
    :raises PasswordRejected: the password breaks the policy.
    """
    state = current_state()
    address = parse_address(email, check_deliverability=state.settings.check_deliverability)
    state.passwords.check_policy(password, user_inputs=(address.email,))
    password_hash = state.passwords.hash(password)

    existing = find_user_by_address(address.email)
    if existing is not None:
        _answer_existing_account(existing)
        return
    now = utcnow()
    user = state.models.user(
        email=address.email,
        email_key=address.key,
        password_hash=password_hash,
        registered_at=now,
        session_stamp=new_stamp(),
        confirm_counter=1,
        confirmation_sent_at=now,
    )
    state.db.session.add(user)
    try:
        state.db.session.flush()
    except IntegrityError:
        # Another request registered this address since our lookup; it won.
        state.db.session.rollback()
        existing = find_user_by_address(address.email)
        if existing is not None:
            _answer_existing_account(existing)
        return
    queue_confirmation_mail(user)
    state.db.session.commit()
    log.info("user %s registered", user.id)
    user_registered.send(state.app, user=user)
    confirmation_sent.send(state.app, user=user)


def _answer_existing_account(user: UserMixin) -> None:
    """Resend an unconfirmed account's link, or warn a confirmed account's owner."""
    if not user.is_confirmed:
        try:
            resend_confirmation(user)
        except RateLimited:
            # No mail, but the same work and time as writing one: nothing to measure.
            spend_like_a_confirmation_mail(user)
        except AlreadyConfirmed:
            pass
        return
    state = current_state()
    context = {
        "user": user,
        "login_link": external_url("mailproof.login"),
        "reset_link": _reset_link(),
    }
    if not claim_send_slot(user, "account_notice_sent_at", state.settings.resend_interval):
        # A notice went out moments ago: none now (no inbox flooding), in the time one takes.
        state.outbox.queue_decoy(user.email, "account_exists", context)
        log.info("registration attempted for existing user %s; notice sent recently", user.id)
        return
    state.outbox.queue(user.email, "account_exists", context)
    state.db.session.commit()
    log.info("registration attempted for existing user %s", user.id)


def _reset_link() -> str | None:
    """Return the reset page's link if the application serves one."""
    if "mailproof.reset_request" not in current_app.view_functions:
        return None
    return external_url("mailproof.reset_request")
