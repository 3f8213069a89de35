"""Prove, before a sensitive change, that the account's owner is at the keyboard now.

Accounts with a password type it, as everywhere. An account without one (and every account when
``MAILPROOF_PASSWORDLESS = "only"``) has nothing to type: it shows instead that this login began
with a proof of the mailbox, lately. The front ends read that from the session and pass it in;
this module decides, so that both apply one rule.
"""

from __future__ import annotations

from ..errors import FreshLoginRequired, InvalidCredentials
from ..logs import auth_logger
from ..models import UserMixin
from ..state import current_state

log = auth_logger("flask_mailproof.reauthentication")


def proves_by_mailbox(user: UserMixin) -> bool:
    """Tell whether ``user`` proves presence by a fresh sign-in link rather than a password."""
    return user.password_hash is None or not current_state().settings.passwords_enabled


def check_presence(
    user: UserMixin, current_password: str | None, *, mailbox_proven: bool, action: str
) -> None:
    """Refuse unless ``user`` just proved they are the account's owner.

    :param current_password: what was typed as the current password, if the form asked.
    :param mailbox_proven: this login began with an emailed link or code, within
        ``MAILPROOF_FRESH_LOGIN_MAX_AGE``.
    :param action: what is being done, for the log.
    :raises FreshLoginRequired: the account proves itself by its mailbox, not lately enough.
    :raises InvalidCredentials: the account has a password, and this is not it.
    """
    if proves_by_mailbox(user):
        if not mailbox_proven:
            log.info(
                "%s refused for user %s: no recent sign-in by mail",
                action,
                user.id,
                extra={"account_id": user.id},
            )
            raise FreshLoginRequired()
        return
    # A missing password is a wrong one: a form built before the account got a password.
    if not current_state().passwords.verify(user.password_hash, current_password or ""):
        log.info(
            "%s refused for user %s: wrong current password",
            action,
            user.id,
            extra={"account_id": user.id},
        )
        raise InvalidCredentials()
