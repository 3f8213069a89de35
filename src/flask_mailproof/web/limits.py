"""Rate limits at the door: per client IP, and per address where the answer must not change.

One line applies a limit to a view (see ``docs/security.md``)::

    @bp.route("/reset", methods=["GET", "POST"])
    @limit_per_ip("reset")                      # POSTs over MAILPROOF_LIMIT_RESET_PER_IP: 429
    def reset_request(): ...

    if address_allowed("reset", form.email.data):   # over the per-address limit: same reply,
        request_password_reset(form.email.data)     # but no mail
"""

from __future__ import annotations

import functools
import typing as t

from flask import abort, current_app, render_template, request
from werkzeug.wrappers import Response

from ..errors import RateLimited
from ..i18n import gettext
from ..limits import attempt_key
from ..state import current_state
from .blueprint import bp

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def client_ip() -> str:
    """Return the address limits count by: the peer, or what ProxyFix set from the proxy."""
    return request.remote_addr or "unknown"


def too_many_requests(retry_after: int) -> Response:
    """Return the 429 page telling the person who hit a limit when to try again."""
    response = Response(
        render_template(
            "mailproof/error.html",
            title=gettext("Too many attempts"),
            message=gettext(
                "Please wait %(seconds)d seconds before trying again.", seconds=retry_after
            ),
        ),
        status=429,
        mimetype="text/html",
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def check_ip(name: str) -> None:
    """Count nothing, but refuse if ``<name>_per_ip`` is used up for this client.

    :raises RateLimited: with the seconds to wait.
    """
    wait = current_state().limits.test(f"{name}_per_ip", client_ip())
    if wait is not None:
        raise RateLimited(wait)


def count_ip(name: str) -> int | None:
    """Count one event of this client against ``<name>_per_ip``; return any wait."""
    return current_state().limits.hit(f"{name}_per_ip", client_ip())


def limit_per_ip(name: str) -> t.Callable[[F], F]:
    """Count each POST to the view against ``<name>_per_ip``; over it, answer 429."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if request.method == "POST":
                wait = count_ip(name)
                if wait is not None:
                    return too_many_requests(wait)
            return view(*args, **kwargs)

        return t.cast("F", wrapped)

    return decorate


def address_allowed(name: str, email: str) -> bool:
    """Count a request about ``email`` against ``<name>_per_address``; tell if it may go on.

    For flows whose answer must not reveal an account (resend, reset): over the limit the
    view gives the usual answer and skips the flow, so no mail goes out.
    """
    return current_state().limits.hit(f"{name}_per_address", attempt_key(email)) is None


def address_wait(name: str, email: str) -> int | None:
    """Count like :func:`address_allowed`, returning the wait for a 429 (e.g. contact)."""
    return current_state().limits.hit(f"{name}_per_address", attempt_key(email))


@bp.before_request
def _refuse_crowded_forms() -> None:
    # Werkzeug bounds multipart parts (MAX_FORM_PARTS) but not urlencoded fields; our forms
    # have a handful, so thousands are an attack on parsing and validation, not a form.
    if request.method == "POST":
        limit = int(current_app.config.get("MAX_FORM_PARTS") or 1000)
        if sum(1 for _ in request.form.items(multi=True)) > limit:
            abort(413)
