"""Look accounts up and change the state that tokens and sessions are bound to."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import delete, or_, select, update

from ..addresses import Address
from ..claims import C, Purpose
from ..clock import utcnow
from ..errors import TokenExpired, TokenInvalid
from ..logs import auth_logger
from ..models import UserMixin, new_stamp
from ..state import current_state
from ..tokens import same

log = auth_logger("flask_mailproof.tokens")

#: How the log names each purpose's links.
_LINK_NAMES = {
    Purpose.CONFIRM: "confirmation",
    Purpose.RESET: "reset",
    Purpose.EMAIL_CHANGE: "address change",
    Purpose.EMAIL_REVERT: "address change undo",
    Purpose.CONTACT: "contact",
    Purpose.LOGIN: "sign-in",
    Purpose.LOGIN_SIGNUP: "sign-up by sign-in",
}


def find_user(address: Address) -> UserMixin | None:
    """Return the account whose address is ``address`` up to case and Unicode folding.

    The database may compare with a looser collation than ours (MariaDB's ``*_ci`` ones take a
    dotless i for an i), so only an exact match of the folded key counts (CVE-2019-19844):
    every lookup by a typed address goes through here.
    """
    user = _user_with_key(address.key)
    if user is None or not same(user.email_key, address.key):
        return None
    return user


def _user_with_key(key: str) -> UserMixin | None:
    state = current_state()
    model = state.models.user
    return state.db.session.scalars(select(model).where(model.email_key == key)).first()


def find_user_by_id(user_id: object) -> UserMixin | None:
    """Return the account with primary key ``user_id``, or ``None`` for junk or a deleted one."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    state = current_state()
    return t.cast("UserMixin | None", state.db.session.get(state.models.user, user_id))


def read_claim(kind: type[C], token: str) -> tuple[UserMixin, C]:
    """Return the account a token of ``kind`` names and what it claims; log any refusal.

    :raises TokenInvalid: not ours, tampered with, another purpose, or no such account.
    :raises TokenExpired: ours, but its time is up.
    """
    name = _LINK_NAMES[kind.purpose]
    try:
        claim = current_state().tokens.read_claim(kind, token)
    except TokenInvalid:
        log.info("%s token refused: invalid", name)
        raise
    except TokenExpired:
        log.info("%s token refused: expired", name)
        raise
    user = find_user_by_id(getattr(claim, "user_id", None))
    if user is None:
        log.info("%s token refused: invalid, no such account", name)
        raise TokenInvalid()  # no such account
    return user, claim


def rotate_session_stamp(user: UserMixin) -> None:
    """End every session and remember-me cookie of ``user`` (no commit)."""
    user.session_stamp = new_stamp()
    delete_login_sessions(user)


def delete_login_sessions(user: UserMixin) -> None:
    """Delete every login record of ``user`` (no commit).

    Their cookies are dead already once the stamp has changed; this only keeps the table from
    filling with rows no cookie can use. For flows that change the stamp in an UPDATE of their
    own rather than through :func:`rotate_session_stamp`.
    """
    state = current_state()
    model = state.models.login_session
    state.db.session.execute(delete(model).where(model.user_id == user.id))


def bump_counters(user: UserMixin, *counters: str) -> None:
    """Add one to each of ``user``'s ``counters`` in one ``UPDATE ... SET n = n + 1``; no commit.

    Only a link carrying a counter's latest value works; read-modify-write in Python would let
    two racing requests both write the same value and leave two links "latest".
    """
    state = current_state()
    model = state.models.user
    state.db.session.execute(
        update(model)
        .where(model.id == user.id)
        .values({name: getattr(model, name) + 1 for name in counters})
    )
    state.db.session.refresh(user, attribute_names=list(counters))


def claim_send_slot(
    user: UserMixin,
    stamp: str,
    interval: int,
    *conditions: t.Any,
    **values: t.Any,
) -> bool:
    """Stamp column ``stamp`` with now if ``interval`` seconds have passed since it was last
    stamped (and ``conditions`` hold), setting ``values`` too; no commit.

    One conditional UPDATE, so of two racing requests exactly one gets the slot: how resends
    and notices are limited per address without a lock or a table of sends.
    """
    state = current_state()
    model = state.models.user
    column = getattr(model, stamp)
    now = utcnow()
    result = state.db.session.execute(
        update(model)
        .where(
            model.id == user.id,
            *conditions,
            or_(column.is_(None), column <= now - dt.timedelta(seconds=interval)),
        )
        .values({stamp: now, **values})
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
