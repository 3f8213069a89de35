"""Start and end a login session; shared by the HTML views and the JSON API."""

from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user

from ..models import UserMixin


def begin_session(user: UserMixin, *, remember: bool) -> None:
    """Log ``user`` in on a fresh session: nothing planted in the cookie before survives."""
    session.clear()
    login_user(user, remember=remember)


def end_session() -> None:
    """Log out and drop everything the session held."""
    logout_user()
    session.clear()
