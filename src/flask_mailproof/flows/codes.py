"""Six-digit verification codes: issued with a mail, redeemed once, five wrong tries at most."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import typing as t

from sqlalchemy import delete, select, update

from ..addresses import parse_address
from ..clock import utcnow
from ..errors import CodeExhausted, CodeExpired, CodeInvalid, InvalidAddress
from ..logs import auth_logger
from ..models import UserMixin, VerificationCodeMixin
from ..state import current_state
from ..tokens import Purpose
from .accounts import find_user

log = auth_logger("flask_mailproof.codes")

CODE_DIGITS = 6


def _code_hash(user_id: int, purpose: Purpose, code: str) -> str:
    message = f"flask-mailproof.code\x1f{user_id}\x1f{purpose.value}\x1f{code}".encode()
    return current_state().tokens.mac(message)


def issue_code(user: UserMixin, purpose: Purpose) -> str:
    """Replace ``user``'s code for ``purpose`` with a fresh one and return it (no commit).

    The code lives as long as the link mailed with it.
    """
    state = current_state()
    max_age = state.tokens.max_age(purpose)
    model: t.Any = state.models.verification_code
    state.db.session.execute(
        delete(model).where(model.user_id == user.id, model.purpose == purpose.value)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    state.db.session.add(
        model(
            user_id=user.id,
            purpose=purpose.value,
            code_hash=_code_hash(user.id, purpose, code),
            expires_at=utcnow() + dt.timedelta(seconds=max_age),
        )
    )
    return code


def spend_like_a_code(purpose: Purpose) -> str:
    """Do the work of :func:`issue_code` for no account, keep nothing, and return a decoy code.

    For answers that must take as long for an address without an account: the same DELETE,
    MAC and INSERT (taken back before the caller's commit; no account has id 0).
    """
    state = current_state()
    model: t.Any = state.models.verification_code
    state.db.session.execute(
        delete(model).where(model.user_id == 0, model.purpose == purpose.value)
    )
    row = model(
        user_id=0,
        purpose=purpose.value,
        code_hash=_code_hash(0, purpose, "000000"),
        expires_at=utcnow(),
    )
    state.db.session.add(row)
    state.db.session.flush()
    state.db.session.delete(row)
    return "000000"


def discard_codes(user: UserMixin, purpose: Purpose) -> None:
    """Forget ``user``'s code for ``purpose`` (no commit): the link was used instead."""
    state = current_state()
    model = state.models.verification_code
    state.db.session.execute(
        delete(model).where(model.user_id == user.id, model.purpose == purpose.value)
    )


def redeem_code(email: str, purpose: Purpose, code: str) -> UserMixin:
    """Use up the code mailed to ``email`` for ``purpose`` and return its account.

    A wrong code counts against the code's tries; the right one works once, however many
    requests race (the row is deleted by exactly one of them). Commits.

    :raises CodeInvalid: wrong code, no live code, or no such account (one answer for all).
    :raises CodeExpired: the right code, too late.
    :raises CodeExhausted: this code had its tries; a :class:`CodeInvalid`, answered alike.
    """
    state = current_state()
    try:
        user = find_user(parse_address(email))
    except InvalidAddress:
        user = None
    row = _live_row(user, purpose) if user is not None else None
    if user is None or row is None:
        raise CodeInvalid()
    if row.attempts >= state.settings.code_max_attempts:
        log.info(
            "%s code for user %s tried after its last try",
            purpose.value,
            user.id,
            extra={"account_id": user.id},
        )
        raise CodeExhausted()
    if not hmac.compare_digest(row.code_hash, _code_hash(user.id, purpose, code)):
        _count_wrong_try(row)
        log.info("wrong %s code for user %s", purpose.value, user.id, extra={"account_id": user.id})
        raise CodeInvalid()
    # Alive to the end of its lifetime, as the link mailed with it (itsdangerous: age > max_age).
    if row.expires_at < utcnow():
        raise CodeExpired()
    model = state.models.verification_code
    used = state.db.session.execute(delete(model).where(model.id == row.id))
    state.db.session.commit()
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise CodeInvalid()
    return user


def _live_row(user: UserMixin, purpose: Purpose) -> VerificationCodeMixin | None:
    state = current_state()
    model = state.models.verification_code
    query = select(model).where(model.user_id == user.id, model.purpose == purpose.value)
    return state.db.session.scalars(query).first()


def _count_wrong_try(row: VerificationCodeMixin) -> None:
    state = current_state()
    model = state.models.verification_code
    state.db.session.execute(
        update(model).where(model.id == row.id).values(attempts=model.attempts + 1)
    )
    state.db.session.commit()
