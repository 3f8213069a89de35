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
    session = state.db.session
    returning = session.get_bind().dialect.update_returning
    if returning:
        # The UPDATE hands back the row it changed and the loaded account takes its values
        # (populate_existing): one statement where a refresh would add a SELECT.
        changed = session.execute(
            statement.returning(type(user)).execution_options(populate_existing=True)
        )
        won = len(changed.scalars().all()) == 1
    else:  # MariaDB and MySQL have no UPDATE ... RETURNING
        won = session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
    if not won:
        session.rollback()
        raise lost
    delete_login_sessions(user)
    discard_codes(user, purpose)
    if not returning:
        session.refresh(user)
    # The mailbox took our mail and its owner acted on it: whatever bounced before is past.
    forget_bounce(user.email)


def commit_keeping_loaded() -> None:
    """Commit a settled proof without expiring what the session has loaded.

    :func:`settle_proof` read the account back in this transaction, and what follows the
    proof (its log line, its signal, the view's message and new session) reads it again:
    expired by the commit, the account would be selected once more.
    """
    session = current_state().db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
