"""Request and response bodies; the OpenAPI document is generated from these models."""

from __future__ import annotations

import copy
import datetime as dt
import typing as t

from pydantic import BaseModel as PydanticModel
from pydantic import ConfigDict, Field

from ..addresses import MAX_ADDRESS_LENGTH

# Bounds on strings keep hostile bodies cheap to refuse; passwords get a character bound here
# and the exact byte bound (MAILPROOF_PASSWORD_MAX_BYTES) in the flow, before any hashing.
_ADDRESS = Field(min_length=1, max_length=MAX_ADDRESS_LENGTH)
_PASSWORD = Field(min_length=1, max_length=4096)
_TOKEN = Field(min_length=1, max_length=1024)


class BaseModel(PydanticModel):
    """Base of every body: its JSON schema is generated once per process, not once per app.

    The OpenAPI generator asks for each model's schema at every app's start, once per endpoint
    that names it (``Error`` once for every endpoint): 170 schemas, more than half of an app's
    start-up (0.17 s of the test suite's app and schema set-up, 0.08 s with this cache), paid by
    every worker and every test.
    """

    _schemas: t.ClassVar[dict[t.Hashable, dict[str, t.Any]]] = {}

    @classmethod
    def model_json_schema(cls, *args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
        key = (cls, args, tuple(sorted(kwargs.items())))
        schema = BaseModel._schemas.get(key)
        if schema is None:
            schema = BaseModel._schemas[key] = super().model_json_schema(*args, **kwargs)
        # A copy: callers may edit what they are given (the generator rewrites references).
        return copy.deepcopy(schema)


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(Request):
    email: str = _ADDRESS
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description='Required, unless MAILPROOF_PASSWORDLESS is "only": then refused (422), '
        "since the account is the address alone.",
    )


class LoginRequest(Request):
    email: str = _ADDRESS
    password: str = _PASSWORD
    remember: bool = False


class TokenRequest(Request):
    token: str = _TOKEN


class EmailRequest(Request):
    email: str = _ADDRESS


class OptionalEmailRequest(Request):
    """Logged out: the address to resend to. Logged in: nothing (the body may be ``{}``)."""

    email: str | None = Field(default=None, min_length=1, max_length=MAX_ADDRESS_LENGTH)


class CodeRequest(Request):
    email: str = _ADDRESS
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code from the mail.")


class Message(BaseModel):
    """A human-readable answer; the same for every address where that matters."""

    message: str


class CsrfToken(BaseModel):
    csrf_token: str = Field(description="Send it back in the X-CSRFToken header.")


class Undeliverable(BaseModel):
    """Mail to the account's address was refused for good; none is sent until it is fixed."""

    since: dt.datetime = Field(description="When the refusal was recorded (UTC).")
    reply_code: int | None = Field(description="The receiving server's reply code, if any.")
    reason: str = Field(description="The server's reply or the provider's reason.")


class Account(BaseModel):
    email: str
    confirmed: bool
    has_password: bool = Field(
        description="false: the account signs in by emailed link or code only; a password "
        "change sets its first one (after a recent sign-in by mail), as a reset does."
    )
    confirmed_at: dt.datetime | None
    registered_at: dt.datetime
    undeliverable: Undeliverable | None = Field(
        default=None,
        description="Set when mail to this address bounced: fix the address (change-email) "
        "first; resend answers 409 address_undeliverable meanwhile.",
    )


class Error(BaseModel):
    """Every error has this shape."""

    code: str = Field(
        description="Stable and machine-readable: validation_error, token_expired, "
        "token_invalid, token_superseded, rate_limited, invalid_credentials, ..."
    )
    message: str = Field(description="For people.")
    fields: dict[str, list[str]] | None = Field(
        default=None, description="With validation_error: messages per field."
    )


class ContactRequest(Request):
    name: str = Field(min_length=1, max_length=100)
    email: str = _ADDRESS
    message: str = Field(min_length=1, max_length=5000)


class ContactAnswer(BaseModel):
    message: str
    held: bool = Field(
        description="true: a link went to the address and the message waits for its click; "
        "false: the sender's address was already proven and the message was released."
    )


class ResetRequest(Request):
    token: str = _TOKEN
    password: str = _PASSWORD


class ResetCodeRequest(Request):
    email: str = _ADDRESS
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code from the mail.")
    password: str = _PASSWORD


#: Accounts without a password send none: a recent sign-in by emailed link stands in for it.
_CURRENT_PASSWORD = Field(
    default=None,
    min_length=1,
    max_length=4096,
    description="Required when the account has a password (Account.has_password); accounts "
    "without one omit it and must have signed in by an emailed link or code lately, or the "
    "answer is 403 fresh_login_required.",
)


class ChangePasswordRequest(Request):
    current_password: str | None = _CURRENT_PASSWORD
    password: str = _PASSWORD


class ChangeEmailRequest(Request):
    email: str = _ADDRESS
    current_password: str | None = _CURRENT_PASSWORD


class LoginLinkRequest(Request):
    email: str = _ADDRESS
    next: str | None = Field(
        default=None,
        max_length=2048,
        description="A same-site path to go to after signing in; anything else is dropped.",
    )


class LoginLinkConfirmRequest(Request):
    token: str = _TOKEN
    other_device: bool = Field(
        default=False,
        description="The person confirmed they sign in on another device than the one that "
        "asked; without it such a call answers 409 other_device.",
    )
