"""What the suppression list means to an account, and the operator's view of it."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import select

from ..logs import auth_logger
from ..mail.bounces import clear_suppression, find_suppression
from ..state import current_state

if t.TYPE_CHECKING:
    from ..models import SuppressionMixin

log = auth_logger("flask_mailproof.suppression")


def address_bounce(email: str, *, since: dt.datetime | None = None) -> SuppressionMixin | None:
    """Return the suppression of ``email`` (recorded at or after ``since``, if given), or None.

    Only for the address's owner: the logged-in account's own address, or the address this
    browser typed, with ``since`` its own sign-up (see ``docs/security.md``).
    """
    state = current_state()
    found: SuppressionMixin | None = find_suppression(
        state.db.session(), state.models.suppression, email
    )
    if found is None or (since is not None and found.suppressed_at < since):
        return None
    return found


def forget_bounce(email: str) -> bool:
    """Take ``email`` off the suppression list (no commit): it was proven since, or changed."""
    state = current_state()
    cleared = clear_suppression(state.db.session(), state.models.suppression, email)
    if cleared:
        log.info("suppression lifted: the address was proven")
    return cleared


def suppressed_addresses() -> list[SuppressionMixin]:
    """Return the suppression list, newest first."""
    state = current_state()
    model = state.models.suppression
    query = select(model).order_by(model.suppressed_at.desc(), model.id.desc())
    return list(state.db.session.scalars(query))


def lift_suppression(email: str) -> bool:
    """Take ``email`` off the list for an operator and commit; tell if it was on."""
    state = current_state()
    cleared = clear_suppression(state.db.session(), state.models.suppression, email)
    state.db.session.commit()
    if cleared:
        log.info("suppression cleared by an operator")
    return cleared
