"""Change the password of a logged-in user who knows the current one, or set a first one."""

from __future__ import annotations

from ..logs import auth_logger
from ..models import UserMixin
from ..signals import password_changed
from ..state import current_state
from .accounts import rotate_session_stamp
from .password_reset import queue_password_changed_notice
from .reauthentication import check_presence

log = auth_logger("flask_mailproof.password_change")


def change_password(
    user: UserMixin,
    current_password: str | None,
    new_password: str,
    *,
    mailbox_proven: bool = False,
) -> None:
    """Replace ``user``'s password, end every session of the account and mail a notice.

    An account without a password sets its first one here: it shows a recent sign-in by an
    emailed link (``mailbox_proven``) instead of a current password (see
    :func:`.reauthentication.check_presence`).

    The caller logs the current session in again (with a fresh session) if it wants to keep
    it; every other session and remember-me cookie is dead. The new hash also kills every
    outstanding reset link.

    :raises InvalidCredentials: ``current_password`` is wrong.
    :raises FreshLoginRequired: the account has no password and did not sign in by mail lately.
    :raises PasswordRejected: the new password breaks the policy.
    """
    state = current_state()
    check_presence(user, current_password, mailbox_proven=mailbox_proven, action="password change")
    state.passwords.check_policy(new_password, user_inputs=(user.email,))
    user.password_hash = state.passwords.hash(new_password)
    rotate_session_stamp(user)
    queue_password_changed_notice(user)
    state.db.session.commit()
    log.info("password changed for user %s", user.id, extra={"account_id": user.id})
    password_changed.send(state.app, user=user)
