"""``MailproofAPI``: register the JSON API next to the :class:`~flask_mailproof.Mailproof` views."""

from __future__ import annotations

import dataclasses

from flask import Flask, Response, request
from spectree import SpecTree
from werkzeug.exceptions import HTTPException

from ..errors import ConfigurationError
from . import (
    account_endpoints,
    confirmation_endpoints,
    contact_endpoints,
    email_change_endpoints,
    email_login_endpoints,
    password_endpoints,
)
from .blueprint import api_bp, describe_api
from .reference import api_reference_command
from .responses import ApiError, error_response

# The endpoint modules register their routes on ``api_bp`` when imported.
_ENDPOINT_MODULES = (
    account_endpoints,
    confirmation_endpoints,
    password_endpoints,
    email_change_endpoints,
    contact_endpoints,
    email_login_endpoints,
)


class MailproofAPI:
    """The JSON API under ``/api``; needs :class:`~flask_mailproof.Mailproof` on the app first."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register the endpoints, their OpenAPI document and ``flask mailproof api-reference``."""
        if "mailproof" not in app.extensions:
            raise ConfigurationError("Initialise Mailproof before MailproofAPI.")
        app.register_blueprint(api_bp)
        app.register_error_handler(HTTPException, _http_error)
        app.extensions["mailproof_api"] = _ApiState(spec=describe_api(app))
        app.cli.commands["mailproof"].add_command(api_reference_command)  # type: ignore[attr-defined]


@dataclasses.dataclass(frozen=True)
class _ApiState:
    """What the API keeps per app."""

    #: Generates ``/api/openapi.json`` from the pydantic models each endpoint declares.
    spec: SpecTree


def _http_error(error: HTTPException) -> HTTPException | Response:
    """Answer HTTP errors under ``/api`` (404, 405, 413...) in the API's shape."""
    if not request.path.startswith(api_bp.url_prefix or "/api"):
        return error
    code = (error.name or "error").lower().replace(" ", "_")
    return error_response(ApiError(error.code or 500, code, error.description or error.name))
