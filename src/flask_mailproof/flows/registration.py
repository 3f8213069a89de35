"""Create accounts without telling anyone whether an address already had one."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..addresses import parse_address
from ..clock import utcnow
from ..errors import PasswordRejected
from ..i18n import gettext
from ..links import external_url, is_served
from ..logs import auth_logger
from ..models import UserMixin, new_stamp
from ..signals import confirmation_sent, user_registered
from ..state import current_state
from .accounts import claim_send_slot, delete_login_sessions, find_user
from .confirmation import (
    queue_confirmation_mail,
    signup_receipt,
    spend_like_a_confirmation_mail,
)

log = auth_logger("flask_mailproof.registration")


def register_user(email: str, password: str | None) -> str:
    """Register ``email`` with ``password``, or tell the address's owner someone tried.

    With ``MAILPROOF_PASSWORDLESS = "only"`` there is no password (``None``): the account is
    the address alone, and the confirmation link (later a sign-in link) is how it is used.

    Every outcome returns a receipt of the same shape, does the same costly work (one
    password hash) and writes one mail, so neither the answer nor its timing reveals an
    existing account. Two racing registrations of one address meet at the unique index: one
    account, no error. An unconfirmed account signed up for again takes the new password (see
    :func:`_sign_up_again`).

    :returns: the sign-up receipt for the registering browser to keep: confirming from that
        browser proves that it chose the password (see :func:`.confirmation.confirm_email`).
    :raises InvalidAddress: ``email`` is not an address we accept.
    :raises PasswordRejected: the password breaks the policy, is missing, or is given where
        passwords are off.
    """
    state = current_state()
    address = parse_address(email, check_deliverability=state.settings.check_deliverability)
    password_hash = _new_password_hash(password, address.email)
    receipt = signup_receipt(address.key, password_hash)

    existing = find_user(address)
    if existing is not None:
        _answer_existing_account(existing, password_hash)
        return receipt
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
        existing = find_user(address)
        if existing is not None:
            _answer_existing_account(existing, password_hash)
        return receipt
    queue_confirmation_mail(user)
    state.db.session.commit()
    log.info("user %s registered", user.id, extra={"account_id": user.id})
    user_registered.send(state.app, user=user)
    confirmation_sent.send(state.app, user=user)
    return receipt


def _new_password_hash(password: str | None, email: str) -> str | None:
    """Check and hash a sign-up's password; in "only" mode there must be none.

    Every outcome of a sign-up hashes exactly once, or (with no passwords) never: the time
    taken is the same for new and existing addresses either way.
    """
    state = current_state()
    if not state.settings.passwords_enabled:
        if password is not None:
            raise PasswordRejected(gettext("This site uses no passwords; leave it out."))
        return None
    if password is None:
        raise PasswordRejected(gettext("Choose a password."))
    state.passwords.check_policy(password, user_inputs=(email,))
    return state.passwords.hash(password)


def _answer_existing_account(user: UserMixin, password_hash: str | None) -> None:
    """Sign an unconfirmed account up again, or warn a confirmed account's owner."""
    if not user.is_confirmed:
        _sign_up_again(user, password_hash)
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
        log.info(
            "registration attempted for existing user %s; notice sent recently",
            user.id,
            extra={"account_id": user.id},
        )
        return
    state.outbox.queue(user.email, "account_exists", context)
    state.db.session.commit()
    log.info("registration attempted for existing user %s", user.id, extra={"account_id": user.id})


def _sign_up_again(user: UserMixin, password_hash: str | None) -> None:
    """Give an unconfirmed account the new sign-up's password, end its sessions, mail a link.

    Nothing has proven who owns the mailbox yet, so the first sign-up's password is worth no
    more than this one's: whoever registered first (perhaps someone who is not the address's
    owner) loses their password, sessions and links, and the sign-up is marked contested, so
    that the confirmation keeps a password only for a browser that proves it chose it. Within
    the resend interval nothing changes but the mark, and no mail goes, in the time one takes.
    """
    state = current_state()
    model = state.models.user
    now = utcnow()
    claimed = claim_send_slot(
        user,
        "confirmation_sent_at",
        state.settings.resend_interval,
        model.confirmed_at.is_(None),
        confirm_counter=model.confirm_counter + 1,
        password_hash=password_hash,
        session_stamp=new_stamp(),
        contested_at=now,
    )
    if not claimed:
        state.db.session.execute(
            update(model)
            .where(model.id == user.id, model.confirmed_at.is_(None))
            .values(contested_at=now)
        )
        spend_like_a_confirmation_mail(user)
        log.info(
            "unconfirmed user %s signed up for again; a link was sent recently",
            user.id,
            extra={"account_id": user.id},
        )
        return
    delete_login_sessions(user)
    state.db.session.refresh(user)
    queue_confirmation_mail(user)
    state.db.session.commit()
    log.info(
        "unconfirmed user %s signed up for again: new password, sessions ended",
        user.id,
        extra={"account_id": user.id},
    )
    confirmation_sent.send(state.app, user=user)


def _reset_link() -> str | None:
    """Return the reset page's link if the application serves one."""
    if not is_served("mailproof.reset_request"):
        return None
    return external_url("mailproof.reset_request")
