"""What each kind of mailed link's token says: one purpose, one frozen claim, one short wire key
per field.

A claim's fields bind the token to state that using it (or anything else that should kill it)
changes: a counter, digests of the address, the session stamp, the password hash. Digests, not
values, since a token is readable by whoever holds it. The one-letter keys keep links short;
they mean one thing per claim, and only this module spells them.
"""

from __future__ import annotations

import dataclasses
import enum
import typing as t

from .errors import TokenInvalid

C = t.TypeVar("C", bound="Claim")


class Purpose(enum.StrEnum):
    """What a token proves. Each purpose signs with its own salt, so no token crosses over."""

    CONFIRM = "confirm"
    RESET = "reset"
    EMAIL_CHANGE = "email-change"
    EMAIL_REVERT = "email-revert"
    CONTACT = "contact"
    #: Sign in to an existing account by an emailed link (or its code).
    LOGIN = "login"
    #: Create an account, signed in, by an emailed link (``MAILPROOF_PASSWORDLESS_SIGNUP``).
    LOGIN_SIGNUP = "login-signup"


def _wire(key: str) -> t.Any:
    return dataclasses.field(metadata={"key": key})


@dataclasses.dataclass(frozen=True)
class Claim:
    """Base of the claims: turn a claim into a token's payload and back."""

    purpose: t.ClassVar[Purpose]

    def to_payload(self) -> dict[str, t.Any]:
        """Return the payload to sign, under the short keys."""
        return {f.metadata["key"]: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_payload(cls: type[C], payload: t.Any) -> C:
        """Return the claim a signed payload makes.

        :raises TokenInvalid: a field is missing or of the wrong type (a token from an older
            release, or one made for another claim under a leaked key).
        """
        if not isinstance(payload, dict):
            raise TokenInvalid()  # unexpected payload
        values = {}
        for field, expected in _field_types(cls):
            value = payload.get(field.metadata["key"])
            # bool is an int to Python, never to a claim.
            if not isinstance(value, expected) or isinstance(value, bool):
                raise TokenInvalid()  # a field missing or of the wrong type
            values[field.name] = value
        return cls(**values)


_FieldTypes = tuple[tuple[dataclasses.Field[t.Any], type], ...]
#: Each claim's fields with their types, resolved once (annotations are strings here).
_FIELD_TYPES: dict[type[Claim], _FieldTypes] = {}


def _field_types(cls: type[Claim]) -> _FieldTypes:
    found = _FIELD_TYPES.get(cls)
    if found is None:
        types = t.get_type_hints(cls)
        found = tuple((field, types[field.name]) for field in dataclasses.fields(cls))
        _FIELD_TYPES[cls] = found
    return found


@dataclasses.dataclass(frozen=True)
class ConfirmClaim(Claim):
    """Confirm ``user_id``'s address; dies with a newer link, a new address, stamp or password."""

    purpose = Purpose.CONFIRM
    user_id: int = _wire("u")
    counter: int = _wire("n")
    address: str = _wire("e")
    stamp: str = _wire("s")
    password: str = _wire("p")


@dataclasses.dataclass(frozen=True)
class ResetClaim(Claim):
    """Set ``user_id``'s password; dies with a newer link, or a new password, address or login."""

    purpose = Purpose.RESET
    user_id: int = _wire("u")
    counter: int = _wire("n")
    state: str = _wire("b")


@dataclasses.dataclass(frozen=True)
class EmailChangeClaim(Claim):
    """Move ``user_id`` to ``new_email``; dies with a newer request, a move, or a new password."""

    purpose = Purpose.EMAIL_CHANGE
    user_id: int = _wire("u")
    counter: int = _wire("n")
    old_address: str = _wire("o")
    password: str = _wire("p")
    new_email: str = _wire("e")


@dataclasses.dataclass(frozen=True)
class EmailRevertClaim(Claim):
    """Put ``old_email`` back on ``user_id``: bound to nothing the changer could change again."""

    purpose = Purpose.EMAIL_REVERT
    user_id: int = _wire("u")
    old_email: str = _wire("o")


@dataclasses.dataclass(frozen=True)
class ContactClaim(Claim):
    """Release contact message ``message_id``, if it is still the one ``binding`` names."""

    purpose = Purpose.CONTACT
    message_id: int = _wire("m")
    binding: str = _wire("d")


@dataclasses.dataclass(frozen=True)
class LoginClaim(Claim):
    """Sign in as ``user_id`` on the device ``device`` names, then go to ``next_url``.

    Dies with use or a newer link (the counter), and with a password change, reset, address
    change or logout everywhere (``state``). ``device`` is a digest of a nonce kept in the
    requesting browser's session; ``next_url`` is a same-site path or ``""``.
    """

    purpose = Purpose.LOGIN
    user_id: int = _wire("u")
    counter: int = _wire("n")
    state: str = _wire("b")
    device: str = _wire("d")
    next_url: str = _wire("x")


@dataclasses.dataclass(frozen=True)
class LoginSignupClaim(Claim):
    """Create a confirmed, password-less account for ``email`` and sign it in.

    Its own purpose (and salt), so it never passes for a sign-in link to an existing account.
    Single use because the account it creates takes the address.
    """

    purpose = Purpose.LOGIN_SIGNUP
    email: str = _wire("e")
    device: str = _wire("d")
    next_url: str = _wire("x")
