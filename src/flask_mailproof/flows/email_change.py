"""Change an account's address: proven by the new mailbox, undoable from the old one.

An unconfirmed account fixes a mistyped address the same way: the link proves the new one.
"""

from __future__ import annotations

import typing as t

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..addresses import Address, address_key, parse_address
from ..claims import EmailChangeClaim, EmailRevertClaim, Purpose
from ..clock import utcnow
from ..errors import (
    AddressTaken,
    InvalidAddress,
    RateLimited,
    TokenSuperseded,
    TokenUsed,
)
from ..i18n import gettext
from ..links import describe_duration, mailed_link
from ..logs import auth_logger
from ..models import UserMixin, new_stamp
from ..signals import email_changed
from ..state import current_state
from ..tokens import digest, same
from .accounts import bump_counters, delete_login_sessions, find_user, read_claim
from .reauthentication import check_presence
from .suppression import forget_bounce

log = auth_logger("flask_mailproof.email_change")


def _new_address(
    user: UserMixin, email: str, password: str | None, *, mailbox_proven: bool
) -> Address:
    state = current_state()
    address = parse_address(email, check_deliverability=state.settings.check_deliverability)
    check_presence(user, password, mailbox_proven=mailbox_proven, action="address change")
    if address.email == user.email:
        raise InvalidAddress(gettext("This is your address already."))
    return address


def _other_account(address: Address, user: UserMixin) -> UserMixin | None:
    other = find_user(address)
    return None if other is None or other.id == user.id else other


def email_change_token(user: UserMixin, email: str) -> str:
    """Return a link token moving ``user`` to ``email``, for the account's current state.

    Bound to the old address (a used link is dead), the counter (only the latest works) and
    the password hash: a reset or a password change kills every pending change, so whoever
    once knew the password cannot move the account after its owner took it back.
    """
    return current_state().tokens.issue_claim(
        EmailChangeClaim(
            user_id=user.id,
            counter=user.email_change_counter,
            old_address=digest(user.email_key),
            password=digest(user.password_hash),
            new_email=email,
        )
    )


def request_email_change(
    user: UserMixin, email: str, password: str | None, *, mailbox_proven: bool = False
) -> Address:
    """Mail a link to ``email`` that moves ``user`` there; nothing changes until it is used.

    The same for confirmed accounts and for unconfirmed ones fixing a mistyped address (whose
    pending confirmation links die here, so the mistyped address can confirm nothing). A newer
    request kills the older links. If the address has another account, its owner is told
    instead; over the new address's limit nothing is mailed. The answer is the same in every
    case, so this form cannot probe for accounts.

    :raises InvalidAddress: not an address, or the account's own.
    :raises InvalidCredentials: ``password`` is not the account's.
    :raises FreshLoginRequired: an account without a password that did not sign in by mail
        lately (see :func:`.reauthentication.check_presence`).
    :raises RateLimited: the account asked too often (``MAILPROOF_LIMIT_EMAIL_CHANGE_PER_ACCOUNT``).
    """
    state = current_state()
    address = _new_address(user, email, password, mailbox_proven=mailbox_proven)
    wait = state.limits.hit("email_change_per_account", str(user.id))
    if wait is not None:
        raise RateLimited(wait)
    # Older change links die; so do an unconfirmed account's links to the mistyped address.
    if user.is_confirmed:
        bump_counters(user, "email_change_counter")
    else:
        bump_counters(user, "email_change_counter", "confirm_counter")
    if state.limits.allow_address("email_change", address.email):
        _queue_change_mail(user, address)
    state.db.session.commit()
    log.info(
        "address change to a new address asked for user %s", user.id, extra={"account_id": user.id}
    )
    return address


def _queue_change_mail(user: UserMixin, address: Address) -> None:
    state = current_state()
    other = _other_account(address, user)
    if other is not None:
        state.outbox.queue(other.email, "email_change_taken", {"email": other.email})
        return
    state.outbox.queue(
        address.email,
        "email_change",
        {
            "email": address.email,
            "link": mailed_link(Purpose.EMAIL_CHANGE, email_change_token(user, address.email)),
            "expires_in": describe_duration(state.tokens.max_age(Purpose.EMAIL_CHANGE)),
        },
    )


def check_email_change(token: str) -> tuple[UserMixin, Address]:
    """Return the account and the new address a change token names; change nothing.

    :raises TokenInvalid, TokenExpired: not ours, or too old.
    :raises TokenUsed: the account's address is no longer the one the link was made for.
    :raises TokenSuperseded: a newer change was asked for since.
    """
    user, claim = read_claim(EmailChangeClaim, token)
    if not same(claim.old_address, digest(user.email_key)):
        raise TokenUsed()
    if claim.counter != user.email_change_counter:
        raise TokenSuperseded()
    if not same(claim.password, digest(user.password_hash)):
        log.info(
            "address change token refused: the password of user %s changed",
            user.id,
            extra={"account_id": user.id},
        )
        raise TokenUsed()
    return user, Address(email=claim.new_email, key=address_key(claim.new_email))


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
    counts as confirmed. A confirmed old address is told, with a link that undoes the change;
    an unconfirmed one is not: nothing proved that its mailbox is the account owner's, and an
    undo link would hand a stranger (the owner of a mistyped address) a confirmed account.

    :raises TokenInvalid, TokenExpired, TokenUsed, TokenSuperseded: see
        :func:`check_email_change`.
    :raises AddressTaken: the new address has an account now.
    """
    state = current_state()
    user, address = check_email_change(token)
    old_email = user.email
    old_address_proven = user.is_confirmed
    _move(user, address)
    # The new address took the change mail and its owner acted on it: it works.
    forget_bounce(user.email)
    if old_address_proven:
        _queue_undo_mail(user, old_email)
    state.db.session.commit()
    log.info("address changed for user %s", user.id, extra={"account_id": user.id})
    email_changed.send(state.app, user=user, old_email=old_email, new_email=user.email)
    return user


def _queue_undo_mail(user: UserMixin, old_email: str) -> None:
    state = current_state()
    undo = state.tokens.issue_claim(EmailRevertClaim(user_id=user.id, old_email=old_email))
    state.outbox.queue(
        old_email,
        "email_changed",
        {
            "new_email": user.email,
            "link": mailed_link(Purpose.EMAIL_REVERT, undo),
            "expires_in": describe_duration(state.tokens.max_age(Purpose.EMAIL_REVERT)),
        },
    )


def check_email_revert(token: str) -> tuple[UserMixin, Address]:
    """Return the account an undo token names and the address it puts back; change nothing.

    The undo link is bound to the account and the old address only: whoever changed the
    address cannot kill it by changing the address or the password again.

    :raises TokenInvalid, TokenExpired: not ours, or too old.
    :raises TokenUsed: the account has that address already.
    """
    user, claim = read_claim(EmailRevertClaim, token)
    address = Address(email=claim.old_email, key=address_key(claim.old_email))
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
    delete_login_sessions(user)
    state.db.session.commit()
    log.info("address change undone for user %s", user.id, extra={"account_id": user.id})
    email_changed.send(state.app, user=user, old_email=replaced, new_email=user.email)
    return user
