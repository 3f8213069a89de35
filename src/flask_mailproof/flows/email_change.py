"""Change an account's address: proven by the new mailbox, undoable from the old one.

An unconfirmed account, whose address nothing has proven yet, corrects it directly instead.
"""

from __future__ import annotations

import typing as t

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..addresses import Address, address_key, parse_address
from ..clock import utcnow
from ..errors import (
    AddressTaken,
    AlreadyConfirmed,
    InvalidAddress,
    InvalidCredentials,
    TokenInvalid,
    TokenSuperseded,
    TokenUsed,
)
from ..i18n import gettext
from ..links import describe_duration, external_url
from ..logs import auth_logger
from ..models import UserMixin, new_stamp
from ..signals import confirmation_sent, email_changed
from ..state import current_state
from ..tokens import Purpose, digest, same
from .accounts import find_user_by_address, find_user_by_id
from .confirmation import queue_confirmation_mail

log = auth_logger("flask_mailproof.email_change")


def _new_address(user: UserMixin, email: str, password: str) -> Address:
    state = current_state()
    address = parse_address(email, check_deliverability=state.settings.check_deliverability)
    if not state.passwords.verify(user.password_hash, password):
        log.info("address change refused for user %s: wrong password", user.id)
        raise InvalidCredentials()
    if address.email == user.email:
        raise InvalidAddress(gettext("This is your address already."))
    return address


def _other_account(address: Address, user: UserMixin) -> UserMixin | None:
    other = find_user_by_address(address.email)
    if other is None or other.id == user.id or not same(other.email_key, address.key):
        return None
    return other


def request_email_change(user: UserMixin, email: str, password: str) -> Address:
    """Mail a link to ``email`` that moves ``user`` there; nothing changes until it is used.

    A newer request kills the older links. If the address has another account, its owner is
    told instead, and the answer here is the same, so this form cannot probe for accounts.

    :raises InvalidAddress: not an address, or the account's own.
    :raises InvalidCredentials: ``password`` is not the account's.
    """
    state = current_state()
    address = _new_address(user, email, password)
    user.email_change_counter += 1
    other = _other_account(address, user)
    if other is not None:
        state.outbox.queue(other.email, "email_change_taken", {"email": other.email})
    else:
        token = state.tokens.issue(
            Purpose.EMAIL_CHANGE,
            {
                "u": user.id,
                "n": user.email_change_counter,
                "o": digest(user.email_key),
                "e": address.email,
            },
        )
        state.outbox.queue(
            address.email,
            "email_change",
            {
                "email": address.email,
                "link": external_url("mailproof.confirm_email_change", token=token),
                "expires_in": describe_duration(state.settings.email_change_max_age),
            },
        )
    state.db.session.commit()
    log.info("address change to a new address asked for user %s", user.id)
    return address


def check_email_change(token: str) -> tuple[UserMixin, Address]:
    """Return the account and the new address a change token names; change nothing.

    :raises TokenInvalid, TokenExpired: not ours, or too old.
    :raises TokenUsed: the account's address is no longer the one the link was made for.
    :raises TokenSuperseded: a newer change was asked for since.
    """
    state = current_state()
    max_age = state.settings.email_change_max_age
    payload = state.tokens.read(Purpose.EMAIL_CHANGE, token, max_age)
    user = find_user_by_id(payload.get("u"))
    email = payload.get("e")
    if user is None or not isinstance(email, str):
        raise TokenInvalid("no such account")
    if not same(payload.get("o"), digest(user.email_key)):
        raise TokenUsed()
    if payload.get("n") != user.email_change_counter:
        raise TokenSuperseded()
    return user, Address(email=email, key=address_key(email))


def _move(user: UserMixin, address: Address, **values: t.Any) -> None:
    """Give ``user`` ``address`` if it still has the address it had when read; race-safe.

    Reset and confirmation links made for the old address die (their counters move on), and
    stay dead should that address come back.

    :raises AddressTaken: another account has the address (the unique index says so).
    :raises TokenUsed: the account's address changed meanwhile.
    """
    state = current_state()
    model = state.models.user
    if _other_account(address, user) is not None:
        raise AddressTaken()
    try:
        result = state.db.session.execute(
            update(model)
            .where(model.id == user.id, model.email_key == user.email_key)
            .values(
                email=address.email,
                email_key=address.key,
                confirmed_at=utcnow(),
                reset_counter=model.reset_counter + 1,
                confirm_counter=model.confirm_counter + 1,
                **values,
            )
        )
    except IntegrityError:
        state.db.session.rollback()
        raise AddressTaken() from None
    if result.rowcount != 1:  # type: ignore[attr-defined]
        state.db.session.rollback()
        raise TokenUsed()
    state.db.session.refresh(user)


def confirm_email_change(token: str) -> UserMixin:
    """Move the account the token names to the address signed into it; mail the old address.

    The account and address come from the token alone, whoever is logged in. The new address
    counts as confirmed. The old address is told, with a link that undoes the change.

    :raises TokenInvalid, TokenExpired, TokenUsed, TokenSuperseded: see
        :func:`check_email_change`.
    :raises AddressTaken: the new address has an account now.
    """
    state = current_state()
    user, address = check_email_change(token)
    old_email = user.email
    _move(user, address)
    undo = state.tokens.issue(Purpose.EMAIL_REVERT, {"u": user.id, "o": old_email})
    state.outbox.queue(
        old_email,
        "email_changed",
        {
            "new_email": user.email,
            "link": external_url("mailproof.revert_email_change", token=undo),
            "expires_in": describe_duration(state.settings.email_change_max_age),
        },
    )
    state.db.session.commit()
    log.info("address changed for user %s", user.id)
    email_changed.send(state.app, user=user, old_email=old_email, new_email=user.email)
    return user


def check_email_revert(token: str) -> tuple[UserMixin, Address]:
    """Return the account an undo token names and the address it puts back; change nothing.

    The undo link is bound to the account and the old address only: whoever changed the
    address cannot kill it by changing the address or the password again.

    :raises TokenInvalid, TokenExpired: not ours, or too old.
    :raises TokenUsed: the account has that address already.
    """
    state = current_state()
    max_age = state.settings.email_change_max_age
    payload = state.tokens.read(Purpose.EMAIL_REVERT, token, max_age)
    user = find_user_by_id(payload.get("u"))
    email = payload.get("o")
    if user is None or not isinstance(email, str):
        raise TokenInvalid("no such account")
    address = Address(email=email, key=address_key(email))
    if same(user.email_key, address.key):
        raise TokenUsed()
    return user, address


def revert_email_change(token: str) -> UserMixin:
    """Put the old address back, end every session and kill every pending change link.

    :raises TokenInvalid, TokenExpired, TokenUsed: see :func:`check_email_revert`.
    :raises AddressTaken: another account has the old address now.
    """
    state = current_state()
    user, address = check_email_revert(token)
    model = state.models.user
    replaced = user.email
    _move(
        user,
        address,
        session_stamp=new_stamp(),
        email_change_counter=model.email_change_counter + 1,
    )
    state.db.session.commit()
    log.info("address change undone for user %s", user.id)
    email_changed.send(state.app, user=user, old_email=replaced, new_email=user.email)
    return user


def correct_unconfirmed_address(user: UserMixin, email: str, password: str) -> None:
    """Replace an unconfirmed account's mistyped address and mail the link there instead.

    Links already sent to the mistyped address die; it is sent nothing more.

    :raises AlreadyConfirmed: a confirmed address changes through :func:`request_email_change`.
    :raises InvalidAddress, InvalidCredentials: as for :func:`request_email_change`.
    :raises AddressTaken: another account has the corrected address.
    """
    state = current_state()
    if user.is_confirmed:
        raise AlreadyConfirmed()
    address = _new_address(user, email, password)
    old_email = user.email
    user.email = address.email
    user.email_key = address.key
    user.confirm_counter += 1
    user.reset_counter += 1
    user.confirmation_sent_at = utcnow()
    try:
        state.db.session.flush()
    except IntegrityError:
        state.db.session.rollback()
        raise AddressTaken() from None
    queue_confirmation_mail(user)
    state.db.session.commit()
    log.info("unconfirmed user %s corrected their address", user.id)
    email_changed.send(state.app, user=user, old_email=old_email, new_email=user.email)
    confirmation_sent.send(state.app, user=user)
