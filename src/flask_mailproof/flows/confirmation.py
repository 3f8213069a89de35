"""Confirm an address: send the link, check it, confirm on POST, resend within limits."""

from __future__ import annotations

import datetime as dt
import math
import typing as t

from sqlalchemy import update

from ..addresses import parse_address
from ..clock import utcnow
from ..errors import (
    AlreadyConfirmed,
    RateLimited,
    TokenExpired,
    TokenInvalid,
    TokenSuperseded,
)
from ..links import describe_duration, external_url
from ..logs import auth_logger
from ..models import UserMixin
from ..signals import confirmation_sent, email_confirmed
from ..state import current_state
from ..tokens import Purpose, digest, same
from .accounts import claim_send_slot, find_user_by_address, find_user_by_id
from .codes import discard_codes, issue_code, redeem_code

log = auth_logger("flask_mailproof.confirmation")


def confirmation_token(user: UserMixin) -> str:
    """Return a confirmation token for ``user``'s current address and counter.

    The address digest kills the link when the address changes; the counter kills it when a
    newer link is sent; the stamp digest kills it when the account's sessions are reset.
    """
    return current_state().tokens.issue(
        Purpose.CONFIRM,
        {
            "u": user.id,
            "n": user.confirm_counter,
            "e": digest(user.email_key),
            "s": digest(user.session_stamp),
        },
    )


def _confirmation_mail_context(user: UserMixin, *, code: str | None) -> dict[str, t.Any]:
    settings = current_state().settings
    return {
        "user": user,
        "link": None
        if settings.verification_codes == "only"
        else external_url("mailproof.confirm", token=confirmation_token(user)),
        "code": code,
        "expires_in": describe_duration(settings.confirm_max_age),
    }


def queue_confirmation_mail(user: UserMixin) -> None:
    """Write ``user``'s confirmation mail to the outbox; the caller bumped the counter."""
    state = current_state()
    code = None
    if state.settings.verification_codes != "off":
        code = issue_code(user, Purpose.CONFIRM, state.settings.confirm_max_age)
    state.outbox.queue(user.email, "confirm", _confirmation_mail_context(user, code=code))


def spend_like_a_confirmation_mail(user: UserMixin) -> None:
    """Do the work of writing ``user``'s confirmation mail, then take the mail back, and commit.

    Where a refused resend would otherwise answer in a third of the time of one that sends,
    the time would tell that the address has an account. The mail is rendered and its row
    written and deleted in one transaction: the same pages change, and no mail ever exists.
    """
    current_state().outbox.queue_decoy(
        user.email, "confirm", _confirmation_mail_context(user, code=None)
    )


def check_confirmation(token: str) -> UserMixin:
    """Return the account a confirmation token names, changing nothing (for the GET page).

    :raises TokenInvalid, TokenExpired, TokenSuperseded: the link cannot be used.
    :raises AlreadyConfirmed: it could, but the address is confirmed already.
    """
    state = current_state()
    try:
        payload = state.tokens.read(Purpose.CONFIRM, token, state.settings.confirm_max_age)
    except TokenInvalid:
        log.info("confirmation token refused: invalid")
        raise
    except TokenExpired:
        log.info("confirmation token refused: expired")
        raise
    user = find_user_by_id(payload.get("u"))
    if user is None or not same(payload.get("e"), digest(user.email_key)):
        log.info("confirmation token refused: invalid, no account with that address")
        raise TokenInvalid("no such account")
    if user.is_confirmed:
        raise AlreadyConfirmed()
    if payload.get("n") != user.confirm_counter:
        log.info("confirmation token refused: superseded, for user %s", user.id)
        raise TokenSuperseded()
    if not same(payload.get("s"), digest(user.session_stamp)):
        log.info("confirmation token refused: invalid, sessions of user %s reset", user.id)
        raise TokenInvalid("sessions were reset since")
    return user


def confirm_email(token: str) -> UserMixin:
    """Confirm the address a token names; exactly once, however many clicks race.

    :raises TokenInvalid, TokenExpired, TokenSuperseded, AlreadyConfirmed: see
        :func:`check_confirmation`.
    """
    return _mark_confirmed(check_confirmation(token))


def confirm_email_with_code(email: str, code: str) -> UserMixin:
    """Confirm the address a mailed code was sent to.

    :raises CodeInvalid, CodeExpired, CodeExhausted: see :func:`.codes.redeem_code`.
    :raises AlreadyConfirmed: the code was right but the address is confirmed already.
    """
    return _mark_confirmed(redeem_code(email, Purpose.CONFIRM, code))


def _mark_confirmed(user: UserMixin) -> UserMixin:
    """Set ``confirmed_at`` once, however many requests race; commit and signal."""
    state = current_state()
    model = state.models.user
    result = state.db.session.execute(
        update(model)
        .where(model.id == user.id, model.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        state.db.session.rollback()
        raise AlreadyConfirmed()
    discard_codes(user, Purpose.CONFIRM)
    state.db.session.commit()
    state.db.session.refresh(user)
    log.info("address confirmed for user %s", user.id)
    email_confirmed.send(state.app, user=user)
    return user


def _claim_resend_slot(user: UserMixin, interval: int) -> bool:
    """Bump the counter and stamp the send time if ``interval`` has passed; race-safe."""
    state = current_state()
    model = state.models.user
    claimed = claim_send_slot(
        user,
        "confirmation_sent_at",
        interval,
        model.confirmed_at.is_(None),
        confirm_counter=model.confirm_counter + 1,
    )
    if claimed:
        state.db.session.refresh(user)
    return claimed


def next_resend_at(user: UserMixin) -> dt.datetime | None:
    """Return when ``user`` may ask for another link, or ``None`` if they may now."""
    if user.confirmation_sent_at is None:
        return None
    interval = current_state().settings.resend_interval
    allowed = user.confirmation_sent_at + dt.timedelta(seconds=interval)
    return allowed if allowed > utcnow() else None


def resend_confirmation(user: UserMixin) -> None:
    """Send ``user`` a fresh link, killing the earlier ones.

    :raises AlreadyConfirmed: nothing to confirm.
    :raises RateLimited: the last link went out less than the resend interval ago.
    """
    state = current_state()
    if user.is_confirmed:
        raise AlreadyConfirmed()
    # Refused from what was read, without a write: then a rate-limited address costs what an
    # unknown one does (a lookup), and the time taken tells nobody it has an account.
    wait_until = next_resend_at(user)
    if wait_until is not None:
        raise RateLimited(max(1, math.ceil((wait_until - utcnow()).total_seconds())))
    if not _claim_resend_slot(user, state.settings.resend_interval):
        state.db.session.rollback()
        wait_until = next_resend_at(user)
        retry_after = 1 if wait_until is None else (wait_until - utcnow()).total_seconds()
        raise RateLimited(max(1, int(retry_after + 0.999)))
    queue_confirmation_mail(user)
    state.db.session.commit()
    log.info("confirmation mail queued for user %s", user.id)
    confirmation_sent.send(state.app, user=user)


def _resend_quietly(user: UserMixin | None) -> None:
    """Resend if allowed and needed; say nothing either way (the caller's answer is fixed)."""
    if user is None:
        return
    try:
        resend_confirmation(user)
    except (AlreadyConfirmed, RateLimited):
        return


def resend_to_address(email: str) -> None:
    """Send a fresh link to the unconfirmed account at ``email``, if there is one.

    Raises nothing for unknown, confirmed or rate-limited addresses: the answer to a
    logged-out visitor must not tell whether an account exists.

    :raises InvalidAddress: ``email`` is not an address at all.
    """
    address = parse_address(email, check_deliverability=False)
    _resend_quietly(find_user_by_address(address.email))


def renew_expired_confirmation(token: str) -> None:
    """Mail a fresh link to the account an expired (or superseded) token names.

    The signature still proves we made the token for that account, so this mails only the
    account's own address, and the answer may tell the token's holder what happened.

    :raises TokenInvalid: the token is not ours, or its account is gone or has another address.
    :raises AlreadyConfirmed: nothing is left to confirm.
    :raises RateLimited: the latest link went out less than the resend interval ago.
    """
    state = current_state()
    try:
        payload: dict[str, t.Any] | None = state.tokens.read(
            Purpose.CONFIRM, token, state.settings.confirm_max_age
        )
    except TokenExpired as exc:
        payload = exc.payload
    except TokenInvalid:
        log.info("confirmation token refused for renewal: invalid")
        raise
    if payload is None:
        log.info("confirmation token refused for renewal: invalid payload")
        raise TokenInvalid("unreadable payload")
    user = find_user_by_id(payload.get("u"))
    if user is None or not same(payload.get("e"), digest(user.email_key)):
        log.info("confirmation token refused for renewal: no account with that address")
        raise TokenInvalid("no such account")
    resend_confirmation(user)
