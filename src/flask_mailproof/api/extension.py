"""``MailproofAPI``: register the JSON API next to the :class:`~flask_mailproof.Mailproof` views."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ..errors import ConfigurationError
from . import (
    account_endpoints,
    confirmation_endpoints,
    contact_endpoints,
    email_change_endpoints,
    password_endpoints,
    reference,
)
from .blueprint import api_bp, spec
from .responses import ApiError, error_response

# The endpoint modules register their routes on ``api_bp`` when imported; ``reference`` adds
# ``flask mailproof api-reference``.
_ENDPOINT_MODULES = (
    account_endpoints,
    confirmation_endpoints,
    password_endpoints,
    email_change_endpoints,
    contact_endpoints,
    reference,
)


class MailproofAPI:
    """The JSON API under ``/api``; needs :class:`~flask_mailproof.Mailproof` on the app first."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        if "mailproof" not in app.extensions:
            raise ConfigurationError("Initialise Mailproof before MailproofAPI.")
        app.register_blueprint(api_bp)
        app.register_error_handler(HTTPException, _http_error)
        # The generator walks this app's routes the first time the document is asked for.
        spec.app = app
        app.extensions["mailproof_api"] = self


def _http_error(error: HTTPException) -> HTTPException | Response:
    """Answer HTTP errors under ``/api`` (404, 405, 413...) in the API's shape."""
    if not request.path.startswith(api_bp.url_prefix or "/api"):
        return error
    code = (error.name or "error").lower().replace(" ", "_")
    return error_response(ApiError(error.code or 500, code, error.description or error.name))
