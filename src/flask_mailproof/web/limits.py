"""Rate limits as the HTML views answer them: a 429 page; the rules are in ``guards``.

One line applies a per-IP limit to a view (see ``docs/security.md``)::

    @bp.route("/reset", methods=["GET", "POST"])
    @limit_per_ip("reset")                      # POSTs over MAILPROOF_LIMIT_RESET_PER_IP: 429
    def reset_request(): ...
"""

from __future__ import annotations

import functools
import typing as t

from flask import abort, current_app, render_template, request
from werkzeug.wrappers import Response

from ..errors import RateLimited
from ..guards import limit_ip
from ..i18n import gettext
from .blueprint import bp

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


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


def limit_per_ip(name: str) -> t.Callable[[F], F]:
    """Count each POST to the view against ``<name>_per_ip``; over it, answer 429."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if request.method == "POST":
                try:
                    limit_ip(name)
                except RateLimited as limited:
                    return too_many_requests(limited.retry_after)
            return view(*args, **kwargs)

        return t.cast("F", wrapped)

    return decorate


@bp.before_request
def _refuse_crowded_forms() -> None:
    # Werkzeug bounds multipart parts (MAX_FORM_PARTS) but not urlencoded fields; our forms
    # have a handful, so thousands are an attack on parsing and validation, not a form.
    if request.method == "POST":
        limit = int(current_app.config.get("MAX_FORM_PARTS") or 1000)
        if sum(1 for _ in request.form.items(multi=True)) > limit:
            abort(413)
