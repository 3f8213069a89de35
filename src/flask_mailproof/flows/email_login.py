"""Sign in by proving the mailbox again: a mailed link (and code), no password.

The request answers alike for every address. The link is bound to the account's state (stamp,
address, password), to a per-purpose counter (only the latest link works, and only once), to a
digest of a nonce kept in the requesting browser's session (it signs in silently only there),
and to the safe ``next`` path it was asked with. A first sign-in proves the mailbox the way a
confirmation does, with the same eviction rules.
"""

from __future__ import annotations

import dataclasses
import typing as t

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError

from ..addresses import Address, parse_address
from ..claims import LoginClaim, LoginSignupClaim, Purpose
from ..clock import utcnow
from ..errors import OtherDevice, TokenInvalid, TokenUsed
from ..links import describe_duration, external_url, mailed_link
from ..logs import auth_logger
from ..models import UserMixin, new_stamp
from ..redirects import is_safe_next
from ..settings import CodeMode, PasswordlessMode
from ..signals import email_confirmed, login_link_sent, user_logged_in, user_registered
from ..state import current_state
from ..tokens import digest, same
from ..user_agents import browser_family
from .accounts import find_user, find_user_by_id, read_claim
from .codes import discard_codes, issue_code, redeem_code, spend_like_a_code
from .confirmation import chose_password, proof_confirms
from .login import unlock_login
from .password_reset import queue_reset_mail
from .proofs import settle_proof
from .suppression import forget_bounce

log = auth_logger("flask_mailproof.email_login")

#: How a sign-in by mail began, as :func:`.sessions.begin_session` records it.
Method = t.Literal["email_link", "email_code"]


@dataclasses.dataclass(frozen=True)
class LinkPreview:
    """What the page behind a sign-in link shows before its button is pressed."""

    #: The address the link signs in as (its holder has the mail, so it tells them nothing new).
    email: str
    #: Whether this browser is the one that asked for the link.
    same_device: bool
    #: Whether pressing the button creates the account (``MAILPROOF_PASSWORDLESS_SIGNUP``).
    creates_account: bool


@dataclasses.dataclass(frozen=True)
class SignIn:
    """A completed sign-in by mail: who, where to go next, and what it changed."""

    user: UserMixin
    method: Method
    #: A same-site path carried through the mail, or ``""``.
    next_url: str = ""
    #: The sign-in was the account's first proof of the mailbox.
    confirmed_now: bool = False
    #: A password the signing-in browser did not show it chose was removed.
    password_removed: bool = False
    #: The link created the account.
    created: bool = False


def device_digest(nonce: str | None) -> str:
    """Return what a sign-in token carries of the requesting browser's nonce.

    A digest: the token is readable by whoever holds the mail, the nonce must stay in the
    browser's session alone. No nonce (a browser without one) digests to a value no nonce has.
    """
    return digest("device", nonce) if nonce else "-"


def _bound_state(user: UserMixin) -> str:
    """Digest of what a sign-in link dies with besides its counter.

    The stamp rotates with a password change or reset, with logout everywhere and with a
    confirmation; the address key changes with an address change; the hash with any new
    password (a "set a password" included).
    """
    return digest(user.session_stamp, user.email_key, user.password_hash)


def request_login_link(
    email: str, *, device: str, next_url: str = "", user_agent: str | None = None
) -> None:
    """Mail a sign-in link (and a code where codes are on) to the account at ``email``.

    Returns the same nothing for every address and does alike work either way (a counter
    UPDATE, a lookup, a signature, a rendered mail, an outbox write and a commit), so neither
    the answer nor its timing reveals an account. The mail goes to the address stored on the
    account. Over ``MAILPROOF_LIMIT_LOGIN_LINK_PER_ADDRESS`` nothing is mailed, whoever asks.

    :param device: the nonce the requesting browser keeps in its session.
    :param next_url: a same-site path to go to after signing in, checked by the caller.
    :param user_agent: the request's ``User-Agent``, for the mail's "from Firefox".
    :raises InvalidAddress: ``email`` is not an address at all.
    """
    state = current_state()
    address = parse_address(email)
    # Checked again here, as the token carries it: whatever a caller passes, only a same-site
    # path goes into a link.
    next_url = next_url if is_safe_next(next_url) else ""
    if not state.limits.allow_address("login_link", address.email):
        return
    origin = _origin(user_agent)
    user = find_user(address)
    if user is None:
        _answer_unknown_address(address, device, next_url, origin)
        return
    _bump_login_counter(user.id)
    state.db.session.refresh(user)
    claim = LoginClaim(
        user_id=user.id,
        counter=user.login_counter,
        state=_bound_state(user),
        device=device_digest(device),
        next_url=next_url,
    )
    code = None
    if state.settings.verification_codes is not CodeMode.OFF:
        code = issue_code(user, Purpose.LOGIN)
    token = state.tokens.issue_claim(claim)
    state.outbox.queue(user.email, "login_link", _mail_context(Purpose.LOGIN, token, code, origin))
    # Read before the commit expires the account: reading it after would load it again, a
    # query an unknown address does not cost.
    user_id = user.id
    state.db.session.commit()
    log.info("sign-in mail queued for user %s", user_id, extra={"account_id": user_id})
    login_link_sent.send(state.app, user=user)


def _origin(user_agent: str | None) -> dict[str, t.Any]:
    return {
        "requested_at": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "browser": browser_family(user_agent),
    }


def _mail_context(
    purpose: Purpose, token: str, code: str | None, origin: dict[str, t.Any]
) -> dict[str, t.Any]:
    state = current_state()
    only_code = code is not None and state.settings.verification_codes is CodeMode.ONLY
    return {
        "link": None if only_code else mailed_link(purpose, token),
        "code": code,
        "expires_in": describe_duration(state.tokens.max_age(purpose)),
        **origin,
    }


def _bump_login_counter(user_id: int) -> None:
    """Kill the account's earlier sign-in links (a newer one is on its way); no commit."""
    state = current_state()
    model = state.models.user
    state.db.session.execute(
        update(model).where(model.id == user_id).values(login_counter=model.login_counter + 1)
    )


def _answer_unknown_address(
    address: Address, device: str, next_url: str, origin: dict[str, t.Any]
) -> None:
    state = current_state()
    # The UPDATE and SELECT a known address costs (no account has id 0), whatever is mailed.
    _bump_login_counter(0)
    find_user_by_id(0)
    if state.settings.passwordless_signup:
        claim = LoginSignupClaim(
            email=address.email, device=device_digest(device), next_url=next_url
        )
        token = state.tokens.issue_claim(claim)
        context = _mail_context(Purpose.LOGIN_SIGNUP, token, None, origin)
        state.outbox.queue(address.email, "login_signup", context)
        state.db.session.commit()
        log.info("sign-up link mailed to an address without an account")
        return
    if state.settings.login_notify_unknown:
        context = {"email": address.email, **origin}
        if state.settings.passwordless is not PasswordlessMode.ONLY:
            context["register_link"] = external_url("mailproof.register")
        state.outbox.queue(address.email, "login_unknown", context)
        state.db.session.commit()
        return
    # A decoy costs what a real mail does: signing, rendering, an INSERT, its DELETE and a
    # commit that writes. Nothing is kept or sent. It names the asking browser as a real link
    # does, so its token (and mail) is as long as a real one asked from the same browser.
    decoy = LoginClaim(
        user_id=0, counter=0, state=digest(0), device=device_digest(device), next_url=next_url
    )
    token = state.tokens.issue_claim(decoy)
    code = None
    if state.settings.verification_codes is not CodeMode.OFF:
        code = spend_like_a_code(Purpose.LOGIN)
    state.outbox.queue_decoy(
        address.email, "login_link", _mail_context(Purpose.LOGIN, token, code, origin)
    )


def _read(token: str) -> tuple[UserMixin, LoginClaim] | LoginSignupClaim:
    """Return what a sign-in token names: an account and its claim, or a sign-up claim.

    :raises TokenInvalid, TokenExpired: not ours (another purpose included), or too old.
    :raises TokenUsed: used, superseded, or the account's state changed since.
    """
    tokens = current_state().tokens
    if current_state().settings.passwordless_signup:
        try:
            return tokens.read_claim(LoginSignupClaim, token)
        except TokenInvalid:
            pass  # not a sign-up link: it may still be a sign-in link
    user, claim = read_claim(LoginClaim, token)
    # One answer for a used link and a superseded one: both bumped the counter.
    if claim.counter != user.login_counter or not same(claim.state, _bound_state(user)):
        log.info("sign-in token refused: used or outdated", extra={"account_id": user.id})
        raise TokenUsed()
    return user, claim


def _on_this_device(claim: LoginClaim | LoginSignupClaim, device: str | None) -> bool:
    return same(claim.device, device_digest(device))


def check_login_link(token: str, *, device: str | None) -> LinkPreview:
    """Return what the page behind a sign-in link shows, changing nothing (GET and HEAD).

    :param device: the nonce this browser keeps, if any.
    :raises TokenInvalid, TokenExpired, TokenUsed: see :func:`_read`.
    """
    found = _read(token)
    if isinstance(found, LoginSignupClaim):
        address = _free_address(found)
        return LinkPreview(address.email, _on_this_device(found, device), creates_account=True)
    user, claim = found
    return LinkPreview(user.email, _on_this_device(claim, device), creates_account=False)


def sign_in_with_link(
    token: str,
    *,
    device: str | None,
    other_device: bool = False,
    receipt: str | None = None,
    logged_in_as: int | None = None,
) -> SignIn:
    """Sign in as the account a sign-in link names; exactly once, however many clicks race.

    The caller starts the session (:func:`.sessions.begin_session`).

    :param device: the nonce this browser keeps, if any.
    :param other_device: the person confirmed that they sign in on another device than the
        one that asked.
    :param receipt: the sign-up receipt this browser keeps, if any.
    :param logged_in_as: the account this browser is logged in as, if any.
    :raises TokenInvalid, TokenExpired, TokenUsed: see :func:`_read`.
    :raises OtherDevice: another browser asked for the link, and ``other_device`` is false.
    """
    found = _read(token)
    claim = found if isinstance(found, LoginSignupClaim) else found[1]
    if not other_device and not _on_this_device(claim, device):
        raise OtherDevice()
    if isinstance(found, LoginSignupClaim):
        return _create_account(found)
    user, login_claim = found
    return _complete(
        user, login_claim.counter, "email_link", receipt, logged_in_as, login_claim.next_url
    )


def sign_in_with_code(
    email: str, code: str, *, receipt: str | None = None, logged_in_as: int | None = None
) -> SignIn:
    """Sign in as the account a mailed sign-in code was sent to.

    Run it inside :func:`.guards.counting_failures`: a wrong code counts as a failed login.

    :raises CodeInvalid, CodeExpired, CodeExhausted: see :func:`.codes.redeem_code`.
    """
    user = redeem_code(email, Purpose.LOGIN, code)
    return _complete(user, user.login_counter, "email_code", receipt, logged_in_as, "")


def _equals(column: t.Any, value: object) -> ColumnElement[bool]:
    return t.cast("ColumnElement[bool]", column.is_(None) if value is None else column == value)


def _complete(
    user: UserMixin,
    counter: int,
    method: Method,
    receipt: str | None,
    logged_in_as: int | None,
    next_url: str,
) -> SignIn:
    """Record the sign-in if the account is still as the proof found it; commit and signal.

    The counter goes up, so the link (and any other) is used up; ``last_login_at`` changes, so
    outstanding reset links die as with a password login. A first proof of the mailbox
    confirms the account the way a confirmation does (see :func:`_confirming`).
    """
    state = current_state()
    model = state.models.user
    was_confirmed = user.is_confirmed
    # The WHERE repeats what the token is bound to: of two racing clicks, one changes the row.
    statement = update(model).where(
        model.id == user.id,
        model.login_counter == counter,
        model.session_stamp == user.session_stamp,
        model.email_key == user.email_key,
        _equals(model.password_hash, user.password_hash),
    )
    values: dict[str, t.Any] = {"login_counter": model.login_counter + 1, "last_login_at": utcnow()}
    password_removed = False
    if was_confirmed:
        _settle_sign_in(user, statement.values(values))
    else:
        keep_password = user.password_hash is None or chose_password(user, receipt, logged_in_as)
        password_removed = not keep_password
        values |= proof_confirms(keep_password)
        settle_proof(
            user,
            statement.where(model.confirmed_at.is_(None)).values(values),
            Purpose.LOGIN,
            TokenUsed(),
        )
        if password_removed:
            # As a confirmation does: the proven owner gets a link to choose a password.
            queue_reset_mail(user)
    # Proving the mailbox is what a failed-login lock waits for, as a reset does.
    unlock_login(user)
    state.db.session.commit()
    log.info("user %s signed in by %s", user.id, method, extra={"account_id": user.id})
    if not was_confirmed:
        email_confirmed.send(state.app, user=user)
    user_logged_in.send(state.app, user=user, method=method)
    return SignIn(user, method, next_url, not was_confirmed, password_removed)


def _settle_sign_in(user: UserMixin, statement: t.Any) -> None:
    """Run the sign-in's conditional UPDATE on a confirmed account; no session ends."""
    state = current_state()
    result = state.db.session.execute(statement)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        state.db.session.rollback()
        raise TokenUsed()
    discard_codes(user, Purpose.LOGIN)
    state.db.session.refresh(user)
    # The mailbox took our mail and its owner acted on it: whatever bounced before is past.
    forget_bounce(user.email)


def _free_address(claim: LoginSignupClaim) -> Address:
    """Return the address a sign-up link creates an account for, if it is still free.

    :raises TokenUsed: an account has the address now (this link's, or a later sign-up's).
    """
    address = parse_address(claim.email)
    if find_user(address) is not None:
        raise TokenUsed()
    return address


def _create_account(claim: LoginSignupClaim) -> SignIn:
    """Create the confirmed, password-less account a sign-up link names, signed in.

    The unique address key makes the link single-use: of two racing clicks one inserts.
    """
    state = current_state()
    address = _free_address(claim)
    now = utcnow()
    user = state.models.user(
        email=address.email,
        email_key=address.key,
        password_hash=None,
        registered_at=now,
        confirmed_at=now,
        last_login_at=now,
        session_stamp=new_stamp(),
        login_counter=1,
    )
    state.db.session.add(user)
    try:
        state.db.session.flush()
    except IntegrityError:
        state.db.session.rollback()
        raise TokenUsed() from None
    forget_bounce(user.email)
    state.db.session.commit()
    log.info("user %s signed up by a sign-in link", user.id, extra={"account_id": user.id})
    user_registered.send(state.app, user=user)
    email_confirmed.send(state.app, user=user)
    user_logged_in.send(state.app, user=user, method="email_link")
    return SignIn(user, "email_link", claim.next_url, confirmed_now=True, created=True)
