"""Look accounts up and change the state that tokens and sessions are bound to."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import or_, select, update

from ..addresses import address_key
from ..clock import utcnow
from ..models import UserMixin, new_stamp
from ..state import current_state


def find_user_by_address(email: str) -> UserMixin | None:
    """Return the account whose address is ``email`` up to case and Unicode folding."""
    state = current_state()
    model = state.models.user
    query = select(model).where(model.email_key == address_key(email))
    return state.db.session.scalars(query).first()


def find_user_by_id(user_id: object) -> UserMixin | None:
    """Return the account with primary key ``user_id``, or ``None`` for junk or a deleted one."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    state = current_state()
    return t.cast("UserMixin | None", state.db.session.get(state.models.user, user_id))


def rotate_session_stamp(user: UserMixin) -> None:
    """End every session and remember-me cookie of ``user`` (no commit)."""
    user.session_stamp = new_stamp()


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
