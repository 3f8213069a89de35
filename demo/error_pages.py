"""The demo's error pages: its own layout and language, not Werkzeug's bare English page."""

from __future__ import annotations

import logging
import typing as t

from flask import Flask, render_template
from flask_babel import gettext, lazy_gettext
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

log = logging.getLogger("demo")

#: ``(title, message)`` of each status with a page of its own, translated when shown.
_PAGES: dict[int, tuple[t.Any, t.Any]] = {
    404: (
        lazy_gettext("Page not found"),
        lazy_gettext(
            "There is no page at this address. Check the link, or start again from the home page."
        ),
    ),
    405: (
        lazy_gettext("This page cannot be used that way"),
        lazy_gettext(
            "The page exists, but not for this kind of request. Go back and use the page's "
            "own form or link."
        ),
    ),
    500: (
        lazy_gettext("Something went wrong"),
        lazy_gettext(
            "The site ran into an error, so what you sent may not have been saved. Please try "
            "again in a minute."
        ),
    ),
}


def install_error_pages(app: Flask) -> None:
    """Answer 404, 405 and 500 with the demo's pages, and 503 while the database is away.

    Install after :class:`~flask_mailproof.api.MailproofAPI`: its handler of HTTP errors
    answers under ``/api`` in JSON and is asked first; every other error goes on as before.
    """
    api_answer = app.error_handler_spec[None][None].get(HTTPException)

    def error_page(error: HTTPException) -> HTTPException | Response | tuple[str, int]:
        if api_answer is not None:
            answered = api_answer(error)
            if answered is not error:
                return t.cast("Response", answered)
        if error.code not in _PAGES:
            return error
        title, message = _PAGES[error.code]
        page = render_template("mailproof/error.html", title=str(title), message=str(message))
        return page, error.code

    app.register_error_handler(HTTPException, error_page)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)


def _database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
    """Answer 503 with a page saying to retry, not a bare 500, while the database is away."""
    log.error("database unavailable: %s", error)
    page = render_template(
        "mailproof/error.html",
        title=gettext("Please try again in a minute"),
        message=gettext(
            "The site cannot reach its database right now, so nothing you sent was "
            "saved. Please try again shortly."
        ),
    )
    return page, 503, {"Retry-After": "30"}
