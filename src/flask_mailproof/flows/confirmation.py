"""Confirm an address: send the link, check it, confirm on POST, resend within limits."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import update

from ..addresses import Address, parse_address
from ..claims import ConfirmClaim, Purpose
from ..clock import seconds_until, utcnow
from ..errors import (
    AddressSuppressed,
    AlreadyConfirmed,
    RateLimited,
    TokenExpired,
    TokenInvalid,
    TokenSuperseded,
)
from ..links import describe_duration, mailed_link
from ..logs import auth_logger
from ..models import SuppressionMixin, UserMixin, new_stamp
from ..settings import CodeMode
from ..signals import confirmation_sent, email_confirmed
from ..state import current_state
from ..tokens import digest, same
from .accounts import (
    claim_send_slot,
    find_user,
    find_user_by_id,
    read_claim,
)
from .codes import issue_code, redeem_code, spend_like_a_code
from .password_reset import queue_reset_mail
from .proofs import commit_keeping_loaded, settle_proof
from .suppression import address_bounce

log = auth_logger("flask_mailproof.confirmation")


def confirmation_token(user: UserMixin) -> str:
    """Return a confirmation token for ``user``'s current address and counter.

    The address digest kills the link when the address changes; the counter kills it when a
    newer link is sent; the stamp digest kills it when the account's sessions are reset; the
    password digest kills it when another sign-up or a reset sets a new password.
    """
    return current_state().tokens.issue_claim(
        ConfirmClaim(
            user_id=user.id,
            counter=user.confirm_counter,
            address=digest(user.email_key),
            stamp=digest(user.session_stamp),
            password=digest(user.password_hash),
        )
    )


def signup_receipt(email_key: str, password_hash: str | None) -> str:
    """Return what the browser that signed up keeps: a digest of the address and the new hash.

    The hash is salted, so nobody can compute the receipt of someone else's sign-up; it looks
    the same for every address, known or not. Holding the receipt that matches the account's
    current password proves that this browser chose that password.
    """
    return digest("signup", email_key, password_hash)


def _confirmation_mail_context(user: UserMixin, *, code: str | None) -> dict[str, t.Any]:
    state = current_state()
    return {
        "user": user,
        "link": None
        if state.settings.verification_codes is CodeMode.ONLY
        else mailed_link(Purpose.CONFIRM, confirmation_token(user)),
        "code": code,
        "expires_in": describe_duration(state.tokens.max_age(Purpose.CONFIRM)),
    }


def queue_confirmation_mail(user: UserMixin) -> None:
    """Write ``user``'s confirmation mail to the outbox; the caller bumped the counter."""
    state = current_state()
    code = None
    if state.settings.verification_codes is not CodeMode.OFF:
        code = issue_code(user, Purpose.CONFIRM)
    state.outbox.queue(user.email, "confirm", _confirmation_mail_context(user, code=code))


def spend_like_a_confirmation_mail(user: UserMixin) -> None:
    """Do the work of writing ``user``'s confirmation mail, then take the mail back, and commit.

    Where a refused resend would otherwise answer in a third of the time of one that sends,
    the time would tell that the address has an account. The mail is rendered and its row
    written and deleted in one transaction: the same pages change, and no mail ever exists.
    Where codes are on, a code's DELETE, MAC and INSERT are spent too, and taken back.
    """
    state = current_state()
    code = None
    if state.settings.verification_codes is not CodeMode.OFF:
        code = spend_like_a_code(Purpose.CONFIRM)
    state.outbox.queue_decoy(user.email, "confirm", _confirmation_mail_context(user, code=code))


def check_confirmation(token: str) -> UserMixin:
    """Return the account a confirmation token names, changing nothing (for the GET page).

    :raises TokenInvalid, TokenExpired, TokenSuperseded: the link cannot be used.
    :raises AlreadyConfirmed: it could, but the address is confirmed already.
    """
    user, claim = read_claim(ConfirmClaim, token)
    if not same(claim.address, digest(user.email_key)):
        log.info("confirmation token refused: invalid, no account with that address")
        raise TokenInvalid()  # no such account
    if user.is_confirmed:
        raise AlreadyConfirmed()
    if claim.counter != user.confirm_counter:
        log.info(
            "confirmation token refused: superseded, for user %s",
            user.id,
            extra={"account_id": user.id},
        )
        raise TokenSuperseded()
    if not same(claim.stamp, digest(user.session_stamp)):
        log.info(
            "confirmation token refused: invalid, sessions of user %s reset",
            user.id,
            extra={"account_id": user.id},
        )
        raise TokenInvalid()  # sessions were reset since
    if not same(claim.password, digest(user.password_hash)):
        log.info(
            "confirmation token refused: invalid, password of user %s changed",
            user.id,
            extra={"account_id": user.id},
        )
        raise TokenInvalid()  # the password changed since
    return user


def confirm_email(
    token: str, *, receipt: str | None = None, logged_in_as: int | None = None
) -> UserMixin:
    """Confirm the address a token names; exactly once, however many clicks race.

    Whoever proves the mailbox owns the account: every session opened before ends, pending
    address changes die, and the password stays only if the confirming browser shows that it
    chose it (see :func:`_mark_confirmed`).

    :param receipt: the sign-up receipt the confirming browser kept, if any.
    :param logged_in_as: the account the confirming browser is logged in as, if any.
    :raises TokenInvalid, TokenExpired, TokenSuperseded, AlreadyConfirmed: see
        :func:`check_confirmation`.
    """
    user = check_confirmation(token)
    return _mark_confirmed(user, _knows_password(user, receipt, logged_in_as))


def confirm_email_with_code(
    email: str, code: str, *, receipt: str | None = None, logged_in_as: int | None = None
) -> UserMixin:
    """Confirm the address a mailed code was sent to, as :func:`confirm_email` does.

    :raises CodeInvalid, CodeExpired, CodeExhausted: see :func:`.codes.redeem_code`.
    :raises AlreadyConfirmed: the code was right but the address is confirmed already.
    """
    user = redeem_code(email, Purpose.CONFIRM, code)
    return _mark_confirmed(user, _knows_password(user, receipt, logged_in_as))


def _knows_password(user: UserMixin, receipt: str | None, logged_in_as: int | None) -> bool:
    """Tell whether the password in force may stay when this browser proves the mailbox.

    An uncontested sign-up's password is its only registrant's. After a second sign-up, it is
    the latest registrant's, who may not be the mailbox's owner: it stays only for the browser
    holding that sign-up's receipt, or logged in since it (logins need the current password,
    and the second sign-up ended every earlier session).
    """
    return user.contested_at is None or chose_password(user, receipt, logged_in_as)


def chose_password(user: UserMixin, receipt: str | None, logged_in_as: int | None) -> bool:
    """Tell whether this browser shows it chose ``user``'s password in force.

    It holds the receipt of the sign-up that set it, or it is logged in as ``user`` (logins
    need the current password, and a later sign-up ends every earlier session).
    """
    if logged_in_as == user.id:
        return True
    return receipt is not None and same(receipt, signup_receipt(user.email_key, user.password_hash))


def proof_confirms(keep_password: bool) -> dict[str, t.Any]:
    """Return what a first proof of the mailbox sets on the account (an UPDATE's values).

    Whoever proves the mailbox owns the account: sessions opened before may be anyone's who
    knew a password, and pending address changes would move the account off the proven
    address. Shared by the confirmation link and code and the sign-in link and code.
    """
    model = current_state().models.user
    values: dict[str, t.Any] = {
        "confirmed_at": utcnow(),
        "contested_at": None,
        "session_stamp": new_stamp(),
        "email_change_counter": model.email_change_counter + 1,
    }
    if not keep_password:
        values["password_hash"] = None
    return values


def _mark_confirmed(user: UserMixin, keep_password: bool) -> UserMixin:
    """Confirm once, however many requests race; end earlier sessions; commit and signal.

    Without ``keep_password`` the password is removed (a password login then fails as a
    wrong one does) and a reset mail goes to the now proven address, to choose one.
    """
    state = current_state()
    model = state.models.user
    values = proof_confirms(keep_password)
    statement = (
        update(model)
        .where(
            model.id == user.id,
            model.confirmed_at.is_(None),
            # A sign-up racing this click changed the password: its link is the one to use.
            model.password_hash == user.password_hash,
        )
        .values(values)
    )
    settle_proof(user, statement, Purpose.CONFIRM, AlreadyConfirmed())
    # With no passwords at all ("only") there is nothing to choose: no reset mail.
    if not keep_password and state.settings.passwords_enabled:
        queue_reset_mail(user)
        log.info(
            "contested sign-up of user %s confirmed; password removed, reset mailed",
            user.id,
            extra={"account_id": user.id},
        )
    commit_keeping_loaded()
    log.info("address confirmed for user %s", user.id, extra={"account_id": user.id})
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
    return resend_allowed_at(user.confirmation_sent_at)


def resend_allowed_at(sent_at: dt.datetime | None) -> dt.datetime | None:
    """Return when a link sent at ``sent_at`` may be followed by another, or ``None``: now."""
    if sent_at is None:
        return None
    allowed = sent_at + dt.timedelta(seconds=current_state().settings.resend_interval)
    return allowed if allowed > utcnow() else None


def resend_confirmation(user: UserMixin) -> None:
    """Send ``user`` a fresh link, killing the earlier ones.

    :raises AlreadyConfirmed: nothing to confirm.
    :raises AddressSuppressed: the address refused mail for good; it must be fixed first.
    :raises RateLimited: the last link went out less than the resend interval ago.
    """
    _resend(user, address_bounce(user.email))


def _resend(user: UserMixin, bounce: SuppressionMixin | None) -> None:
    """Do :func:`resend_confirmation`'s work, the address's suppression read already."""
    state = current_state()
    if user.is_confirmed:
        raise AlreadyConfirmed()
    # Before anything is written: a link to an address that refuses mail would be lost.
    if bounce is not None:
        raise AddressSuppressed(bounce)
    # Refused from what was read, without a write: then a rate-limited address costs what an
    # unknown one does (a lookup), and the time taken tells nobody it has an account.
    wait_until = next_resend_at(user)
    if wait_until is not None:
        raise RateLimited(seconds_until(wait_until))
    if not _claim_resend_slot(user, state.settings.resend_interval):
        state.db.session.rollback()
        raise RateLimited(seconds_until(next_resend_at(user)))
    queue_confirmation_mail(user)
    state.db.session.commit()
    log.info("confirmation mail queued for user %s", user.id, extra={"account_id": user.id})
    confirmation_sent.send(state.app, user=user)


def resend_to_address(email: str) -> None:
    """Send a fresh link to the unconfirmed account at ``email``, if there is one.

    Raises nothing for unknown, confirmed, suppressed or rate-limited addresses: the answer to a
    logged-out visitor must not tell whether an account exists, neither in what it says nor in
    what it costs (see :func:`_spend_like_a_resend`). Over the per-address limit
    (``MAILPROOF_LIMIT_RESEND_PER_ADDRESS``) it does nothing, whoever asks.

    :raises InvalidAddress: ``email`` is not an address at all.
    """
    address = parse_address(email)
    state = current_state()
    if not state.limits.allow_address("resend", address.email):
        return
    # Read for every address, with an account or without: the time taken tells nobody which.
    bounce = address_bounce(address.email)
    user = find_user(address)
    # The counter's UPDATE runs for every address: on the account if it may get a link, else on
    # a stand-in with id 0 (no account has it), so that it changes nothing.
    if user is not None and not user.is_confirmed and bounce is None:
        claimant = user
    else:
        claimant = _no_account(address)
    if not _claim_resend_slot(claimant, state.settings.resend_interval):
        _spend_like_a_resend(claimant)
        return
    queue_confirmation_mail(claimant)
    # Read before the commit expires the account: reading it after would load it again, a
    # query an address that gets no link does not cost.
    user_id = claimant.id
    state.db.session.commit()
    log.info("confirmation mail queued for user %s", user_id, extra={"account_id": user_id})
    confirmation_sent.send(state.app, user=claimant)


def _no_account(address: Address) -> UserMixin:
    """Return a stand-in account at ``address`` with id 0, for work that must change nothing.

    Never added to the session: it is only read, to aim an UPDATE at no row and to render a
    mail that is taken back.
    """
    model = current_state().models.user
    return model(
        id=0,
        email=address.email,
        email_key=address.key,
        confirm_counter=0,
        session_stamp=new_stamp(),
        password_hash=None,
    )


def _spend_like_a_resend(claimant: UserMixin) -> None:
    """After an UPDATE that claimed no send slot, do the rest of a send's work, take it back,
    and commit: nothing is kept, nothing is mailed.

    A resend that sends nothing (no account, a confirmed or suppressed one, a link sent moments
    ago) would otherwise answer after two lookups, where one that sends writes a counter, a
    code and a rendered mail: the time would tell an unconfirmed account from the rest. Here
    every answer runs the same statements, so the same plans and the same work.
    """
    find_user_by_id(0)  # the SELECT that reloads an account whose slot was claimed
    spend_like_a_confirmation_mail(claimant)


def renew_expired_confirmation(token: str) -> None:
    """Mail a fresh link to the account an expired (or superseded) token names.

    The signature still proves we made the token for that account, so this mails only the
    account's own address, and the answer may tell the token's holder what happened.

    :raises TokenInvalid: the token is not ours, or its account is gone or has another address.
    :raises AlreadyConfirmed: nothing is left to confirm.
    :raises AddressSuppressed: the address refused mail for good.
    :raises RateLimited: the latest link went out less than the resend interval ago.
    """
    try:
        claim = current_state().tokens.read_claim(ConfirmClaim, token)
    except TokenExpired as exc:
        claim = _expired_claim(exc)
    except TokenInvalid:
        log.info("confirmation token refused for renewal: invalid")
        raise
    user = find_user_by_id(claim.user_id)
    if user is None or not same(claim.address, digest(user.email_key)):
        log.info("confirmation token refused for renewal: no account with that address")
        raise TokenInvalid()  # no such account
    resend_confirmation(user)


def _expired_claim(expired: TokenExpired) -> ConfirmClaim:
    try:
        return ConfirmClaim.from_payload(expired.payload)
    except TokenInvalid:
        log.info("confirmation token refused for renewal: invalid payload")
        raise
