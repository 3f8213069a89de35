"""One error shape for every API failure, and JSON bodies parsed strictly."""

from __future__ import annotations

import typing as t

from flask import Response, jsonify, request
from pydantic import BaseModel, ValidationError

from .schemas import Error

M = t.TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """An API failure, rendered as :class:`~.schemas.Error` with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}


def error_response(error: ApiError) -> Response:
    body = Error(code=error.code, message=error.message, fields=error.fields)
    response = jsonify(body.model_dump(exclude_none=True))
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def json_response(model: BaseModel, status: int = 200) -> Response:
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


def field_error(field: str, message: str) -> ApiError:
    return ApiError(
        422, "validation_error", "Some fields are not valid.", fields={field: [message]}
    )


def parse_body(model: type[M]) -> M:
    """Return the request's JSON body as ``model``.

    :raises ApiError: 415 for another content type, 400 for malformed JSON, 422 with
        per-field messages for wrong or extra fields.
    """
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", "Send JSON with Content-Type: application/json."
        )
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        # ``silent`` covers ValueError only; JSON nested past the interpreter's recursion
        # limit (a few kilobytes of ``[``) would otherwise be a 500 on every endpoint.
        data = None
    if data is None:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for problem in exc.errors(include_url=False, include_input=False):
            name = ".".join(str(part) for part in problem["loc"]) or "body"
            fields.setdefault(name, []).append(problem["msg"])
        raise ApiError(
            422, "validation_error", "Some fields are not valid.", fields=fields
        ) from None
