"""The API blueprint, its OpenAPI generator, and the mapping of flow errors to responses."""

from __future__ import annotations

import dataclasses
import typing as t

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from flask_wtf.csrf import CSRFError
from spectree import Response as SpecResponse
from spectree import SpecTree

from ..errors import (
    AddressSuppressed,
    AddressTaken,
    AlreadyConfirmed,
    CodeExpired,
    CodeInvalid,
    FreshLoginRequired,
    HeaderInjection,
    InvalidAddress,
    InvalidContactField,
    InvalidCredentials,
    OtherDevice,
    PasswordRejected,
    RateLimited,
    TokenExpired,
    TokenInvalid,
    TokenSuperseded,
    TokenUsed,
)
from ..links import PASSWORD_ENDPOINTS, is_served
from .responses import ApiError, error_response, field_error
from .schemas import Error

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: Every endpoint is ``/api/...``, registered as ``mailproof_api.<name>``.
api_bp = Blueprint("mailproof_api", "flask_mailproof", url_prefix="/api")

#: Errors every endpoint may answer with.
_COMMON_ERRORS = (400, 413, 415, 422, 429)
#: Attribute holding an endpoint's :class:`Declaration`.
_DECLARATION = "__mailproof_api_declaration__"


@dataclasses.dataclass(frozen=True)
class Declaration:
    """What an endpoint takes and answers, for the OpenAPI document."""

    body: type[t.Any] | None
    responses: dict[int, type[t.Any] | None]
    tags: tuple[str, ...]

    def apply(self, spec: SpecTree, view: F) -> F:
        """Return ``view`` known to ``spec`` (which validates nothing: parse_body does)."""
        codes = {f"HTTP_{code}": model for code, model in self.responses.items()}
        for code in _COMMON_ERRORS:
            codes.setdefault(f"HTTP_{code}", Error)
        decorator = spec.validate(
            json=self.body, resp=SpecResponse(**codes), skip_validation=True, tags=list(self.tags)
        )
        return t.cast("F", decorator(view))


def documented(
    *,
    body: type[t.Any] | None = None,
    responses: dict[int, type[t.Any] | None],
    tags: tuple[str, ...] = (),
) -> t.Callable[[F], F]:
    """Declare an endpoint's request and responses for the OpenAPI document.

    Validation happens in :func:`~.responses.parse_body` so that every failure has our error
    shape; the declaration only feeds the generator of each app (:func:`describe_api`).
    """

    def declare(view: F) -> F:
        setattr(view, _DECLARATION, Declaration(body, responses, tags))
        return view

    return declare


def describe_api(app: Flask) -> SpecTree:
    """Return the OpenAPI generator of ``app``'s API: one per app, knowing its endpoints."""
    spec = SpecTree(
        "flask",
        title="Flask-Mailproof API",
        version="1",
        description=(
            "Every state-changing call needs the session cookie's CSRF token in the X-CSRFToken "
            "header: fetch it from GET /api/csrf."
        ),
        mode="strict",
        annotations=False,
        naming_strategy=lambda model: model.__name__,
    )
    prefix = f"{api_bp.name}."
    # With MAILPROOF_PASSWORDLESS = "only" the password endpoints answer 404: not documented.
    settings = app.extensions["mailproof"].settings
    removed = frozenset() if settings.passwords_enabled else PASSWORD_ENDPOINTS
    for endpoint, view in list(app.view_functions.items()):
        declaration = getattr(view, _DECLARATION, None)
        if endpoint.startswith(prefix) and declaration is not None and endpoint not in removed:
            app.view_functions[endpoint] = declaration.apply(spec, view)
    # The generator walks this app's routes the first time the document is asked for.
    spec.app = app
    return spec


def api_document() -> dict[str, t.Any]:
    """Return the current app's OpenAPI document."""
    spec: SpecTree = current_app.extensions["mailproof_api"].spec
    return t.cast("dict[str, t.Any]", spec.spec)


@api_bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the generated OpenAPI 3.1 document."""
    return jsonify(api_document())


@api_bp.before_request
def _refuse_removed_endpoints() -> None:
    # MAILPROOF_PASSWORDLESS = "only": the password endpoints are gone (404 in the API's shape).
    if request.endpoint is not None and not is_served(request.endpoint):
        abort(404)


@api_bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error_response(error)


@api_bp.errorhandler(InvalidAddress)
def _invalid_address(error: InvalidAddress) -> Response:
    return error_response(field_error("email", error.reason))


@api_bp.errorhandler(InvalidContactField)
def _invalid_contact_field(error: InvalidContactField) -> Response:
    return error_response(field_error(error.field, error.reason))


@api_bp.errorhandler(PasswordRejected)
def _password_rejected(error: PasswordRejected) -> Response:
    return error_response(field_error("password", error.reason))


#: Flow errors with a fixed answer: status, code, message.
_FIXED: dict[type[Exception], tuple[int, str, str]] = {
    InvalidCredentials: (401, "invalid_credentials", "Wrong address or password."),
    TokenExpired: (410, "token_expired", "This link has expired; ask for a new one."),
    TokenSuperseded: (410, "token_superseded", "A newer link was sent; use the latest mail."),
    TokenInvalid: (400, "token_invalid", "This link does not work."),
    TokenUsed: (409, "token_used", "This link did its job already."),
    OtherDevice: (
        409,
        "other_device",
        "Another device asked for this link: confirm that you sign in here (other_device).",
    ),
    AlreadyConfirmed: (409, "already_confirmed", "The address is confirmed already."),
    AddressTaken: (409, "email_taken", "Another account has that address."),
    AddressSuppressed: (
        409,
        "address_undeliverable",
        "Mail to this address cannot be delivered, so none was sent: fix the address first.",
    ),
    # Also a code that had its tries (CodeExhausted): an unknown address must answer alike.
    CodeInvalid: (
        400,
        "code_invalid",
        "This code is not right, or it had too many wrong tries; ask for a new one.",
    ),
    CodeExpired: (410, "code_expired", "This code has expired; ask for a new one."),
    HeaderInjection: (400, "invalid_header_value", "A value holds a line break."),
    # Where others send their current password, an account without one shows a recent
    # sign-in by mail; 403 like not_confirmed: logged in, but not enough for this.
    FreshLoginRequired: (
        403,
        "fresh_login_required",
        "Sign in by an emailed link or code first; then send this again, without a password.",
    ),
}


def _answer(status: int, code: str, message: str) -> t.Callable[[Exception], Response]:
    def handler(error: Exception) -> Response:
        return error_response(ApiError(status, code, message))

    return handler


for _kind, (_status, _code, _message) in _FIXED.items():
    api_bp.register_error_handler(_kind, _answer(_status, _code, _message))


@api_bp.errorhandler(RateLimited)
def _rate_limited(error: RateLimited) -> Response:
    return error_response(
        ApiError(
            429,
            "rate_limited",
            f"Too many requests; try again in {error.retry_after} seconds.",
            headers={"Retry-After": str(error.retry_after)},
        )
    )


@api_bp.errorhandler(413)
def _too_large(error: Exception) -> Response:
    return error_response(ApiError(413, "payload_too_large", "The body is larger than allowed."))


@api_bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> Response:
    return error_response(
        ApiError(400, "csrf_failed", "Send the token from GET /api/csrf in X-CSRFToken.")
    )
