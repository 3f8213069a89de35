"""What every completed mailbox proof does once its conditional update has run."""

from __future__ import annotations

from sqlalchemy import Update

from ..claims import Purpose
from ..models import UserMixin
from ..state import current_state
from .accounts import delete_login_sessions
from .codes import discard_codes
from .suppression import forget_bounce


def settle_proof(user: UserMixin, statement: Update, purpose: Purpose, lost: Exception) -> None:
    """Run a proof's conditional ``statement``; the winner ends what the proof replaces.

    The statement's WHERE repeats what the proof was bound to, so of two racing requests one
    changes the row: the other rolls back and raises ``lost``. The winner deletes the
    account's logins (sessions opened before the proof may be anyone's who knew a password)
    and its codes for ``purpose``, reloads the account, and takes its (now proven) address
    off the suppression list. Nothing is committed.
    """
    state = current_state()
    result = state.db.session.execute(statement)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        state.db.session.rollback()
        raise lost
    delete_login_sessions(user)
    discard_codes(user, purpose)
    state.db.session.refresh(user)
    # The mailbox took our mail and its owner acted on it: whatever bounced before is past.
    forget_bounce(user.email)
