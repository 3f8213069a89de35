"""``confirmed_required``: keep unconfirmed users out of a view, with no side effects."""

from __future__ import annotations

import functools
import typing as t

from flask import current_app, redirect, url_for
from flask_login import current_user

from ..guards import passes_confirmation_gate

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def confirmed_required(view: F) -> F:
    """Let only logged-in users with a confirmed address (or within the grace period) in.

    Anonymous visitors go to the login page, unconfirmed users to ``/unconfirmed``. It sends
    no mail and changes nothing.
    """

    @functools.wraps(view)
    def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not passes_confirmation_gate(current_user):
            return redirect(url_for("mailproof.unconfirmed"))
        return view(*args, **kwargs)

    return t.cast("F", wrapped)
