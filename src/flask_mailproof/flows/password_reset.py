"""Reset a forgotten password through a link mailed to the account's own address."""

from __future__ import annotations

import typing as t

from sqlalchemy import ColumnElement, func, update

from ..addresses import Address, parse_address
from ..claims import Purpose, ResetClaim
from ..clock import utcnow
from ..errors import TokenSuperseded, TokenUsed
from ..links import describe_duration, external_url, mailed_link
from ..logs import auth_logger
from ..models import UserMixin, new_stamp
from ..settings import CodeMode
from ..signals import email_confirmed, password_reset, reset_requested
from ..state import current_state
from ..tokens import digest, same
from .accounts import find_user, find_user_by_id, read_claim
from .codes import issue_code, redeem_code, spend_like_a_code
from .login import unlock_login
from .proofs import settle_proof

log = auth_logger("flask_mailproof.password_reset")


def _bound_state(user: UserMixin) -> str:
    """Digest of what a reset link dies with: the password, the address, the last login.

    As in Django, a used link is dead because using it changed the password; a login, a
    password change or an address change kills every outstanding link the same way.
    """
    return digest(user.password_hash, user.email_key, user.last_login_at)


def reset_token(user: UserMixin) -> str:
    """Return a reset token for ``user``'s current state and reset counter."""
    return current_state().tokens.issue_claim(
        ResetClaim(user_id=user.id, counter=user.reset_counter, state=_bound_state(user))
    )


def request_password_reset(email: str) -> None:
    """Mail a reset link to the account at ``email``, if there is one.

    Returns the same nothing for every address and does alike work either way (a lookup, a
    rendered mail, an outbox write), so neither the answer nor its timing reveals an account.
    The link goes to the address stored on the account, never to the typed string. Over the
    per-address limit (``MAILPROOF_LIMIT_RESET_PER_ADDRESS``) it does nothing, whoever asks.

    :raises InvalidAddress: ``email`` is not an address at all.
    """
    state = current_state()
    address = parse_address(email)
    if not state.limits.allow_address("reset", address.email):
        return
    user = find_user(address)
    if user is None:
        _answer_unknown_address(address)
        reset_requested.send(state.app, user=None, email=address.email)
        return
    queue_reset_mail(user)
    # Read before the commit expires the account: reading it after would load it again, a
    # query an unknown address does not cost.
    user_id = user.id
    state.db.session.commit()
    log.info("reset mail queued for user %s", user_id, extra={"account_id": user_id})
    reset_requested.send(state.app, user=user, email=address.email)


def queue_reset_mail(user: UserMixin) -> None:
    """Write a reset mail (link, and code where codes are on) to ``user``'s address; no commit.

    Earlier reset links die: only the latest works.
    """
    state = current_state()
    _bump_reset_counter(user.id)
    state.db.session.refresh(user)
    code = None
    if state.settings.verification_codes is not CodeMode.OFF:
        code = issue_code(user, Purpose.RESET)
    context = _reset_mail_context(reset_token(user), code, first=user.password_hash is None)
    state.outbox.queue(user.email, "reset", context)


def _bump_reset_counter(user_id: int) -> None:
    """Kill the account's earlier reset links (a newer one is on its way); no commit."""
    state = current_state()
    model = state.models.user
    state.db.session.execute(
        update(model)
        .where(model.id == user_id)
        .values(reset_counter=model.reset_counter + 1, reset_sent_at=utcnow())
    )


def _reset_mail_context(token: str, code: str | None, *, first: bool) -> dict[str, t.Any]:
    """The reset mail's context; ``first``: the account has no password, the mail sets one."""
    state = current_state()
    only_code = state.settings.verification_codes is CodeMode.ONLY
    return {
        "link": None if only_code else mailed_link(Purpose.RESET, token),
        "code": code,
        "first_password": first,
        "expires_in": describe_duration(state.tokens.max_age(Purpose.RESET)),
    }


def _answer_unknown_address(address: Address) -> None:
    state = current_state()
    if state.settings.reset_notify_unknown:
        state.outbox.queue(
            address.email,
            "reset_unknown",
            {"email": address.email, "register_link": external_url("mailproof.register")},
        )
        state.db.session.commit()
        return
    # Do what a known account costs: the same UPDATE and SELECT (no account has id 0), the
    # code's DELETE, MAC and INSERT where codes are on, signing, rendering, INSERT and a commit
    # that writes (a rollback is measurably faster), so the timing tells nothing. The rows are
    # deleted before the commit: nothing is kept or sent.
    _bump_reset_counter(0)
    find_user_by_id(0)
    decoy = state.tokens.issue_claim(ResetClaim(user_id=0, counter=0, state=digest(0)))
    decoy_code = None
    if state.settings.verification_codes is not CodeMode.OFF:
        decoy_code = spend_like_a_code(Purpose.RESET)
    context = _reset_mail_context(decoy, decoy_code, first=False)
    state.outbox.queue_decoy(address.email, "reset", context)


def _read(token: str) -> tuple[UserMixin, ResetClaim]:
    user, claim = read_claim(ResetClaim, token)
    if claim.counter != user.reset_counter:
        raise TokenSuperseded()
    if not same(claim.state, _bound_state(user)):
        raise TokenUsed()
    return user, claim


def check_reset_token(token: str) -> UserMixin:
    """Return the account a reset token names, changing nothing (for the form's GET).

    :raises TokenInvalid, TokenExpired: the link is not ours, or too old.
    :raises TokenSuperseded: a newer reset link was mailed since.
    :raises TokenUsed: the password, address or last login changed since (a use among them).
    """
    return _read(token)[0]


def _equals(column: t.Any, value: object) -> ColumnElement[bool]:
    return t.cast("ColumnElement[bool]", column.is_(None) if value is None else column == value)


def reset_password(token: str, password: str) -> UserMixin:
    """Set the password of the account the token names; exactly once, however many race.

    The account comes from the token alone. Every session of the account ends, nobody is
    logged in, an unconfirmed address counts as confirmed (the link proved the mailbox), and a
    notice goes to the account's address.

    :raises TokenInvalid, TokenExpired, TokenSuperseded, TokenUsed: see :func:`check_reset_token`.
    :raises PasswordRejected: the new password breaks the policy.
    """
    user, claim = _read(token)
    current_state().passwords.check_policy(password, user_inputs=(user.email,))
    return _set_new_password(user, claim.counter, password)


def reset_password_with_code(email: str, code: str, password: str) -> UserMixin:
    """Set the password of the account a mailed reset code was sent to.

    The policy is checked before the code is used up, so a refused password costs no code.

    :raises PasswordRejected: the new password breaks the policy.
    :raises CodeInvalid, CodeExpired, CodeExhausted: see :func:`.codes.redeem_code`.
    """
    current_state().passwords.check_policy(password, user_inputs=(email,))
    user = redeem_code(email, Purpose.RESET, code)
    return _set_new_password(user, user.reset_counter, password)


def _set_new_password(user: UserMixin, reset_counter: object, password: str) -> UserMixin:
    """Set the password if the account is still as the proof found it; end every session."""
    state = current_state()
    was_confirmed = user.is_confirmed
    model = state.models.user
    # The WHERE repeats what the token is bound to: of two racing requests, the second finds
    # the password changed and updates nothing.
    statement = (
        update(model)
        .where(
            model.id == user.id,
            model.reset_counter == reset_counter,
            _equals(model.password_hash, user.password_hash),
            model.email_key == user.email_key,
            _equals(model.last_login_at, user.last_login_at),
        )
        .values(
            password_hash=state.passwords.hash(password),
            session_stamp=new_stamp(),
            confirmed_at=func.coalesce(model.confirmed_at, utcnow()),
        )
    )
    settle_proof(user, statement, Purpose.RESET, TokenUsed())
    # Proving the mailbox is what a failed-login lock waits for: the reset ends it.
    unlock_login(user)
    queue_password_changed_notice(user)
    state.db.session.commit()
    log.info("password reset for user %s", user.id, extra={"account_id": user.id})
    password_reset.send(state.app, user=user)
    if not was_confirmed:
        email_confirmed.send(state.app, user=user)
    return user


def queue_password_changed_notice(user: UserMixin) -> None:
    """Write the "your password was changed" notice to the outbox; no commit."""
    current_state().outbox.queue(
        user.email,
        "password_changed",
        {"user": user, "reset_link": external_url("mailproof.reset_request")},
    )
