"""Who may call an endpoint: the API's twin of ``confirmed_required``."""

from __future__ import annotations

from flask_login import current_user

from ..guards import passes_confirmation_gate
from ..models import UserMixin
from .responses import ApiError


def logged_in_user() -> UserMixin:
    """Return the logged-in account, or answer 401."""
    if not current_user.is_authenticated:
        raise ApiError(401, "not_authenticated", "Log in first.")
    user: UserMixin = current_user._get_current_object()
    return user


def confirmed_user() -> UserMixin:
    """Return the logged-in account if its address is confirmed, or answer 401/403."""
    user = logged_in_user()
    if not passes_confirmation_gate(user):
        raise ApiError(403, "not_confirmed", "Confirm your address first.")
    return user
