"""Validate and normalise email addresses, and derive the key that makes them unique."""

from __future__ import annotations

import dataclasses
import unicodedata

import email_validator

from .errors import InvalidAddress
from .i18n import gettext

#: RFC 5321's limit on a forward path, and email-validator's.
MAX_ADDRESS_LENGTH = 254

#: What a form parser puts where the request had bytes that are not UTF-8.
REPLACEMENT_CHARACTER = "\ufffd"


@dataclasses.dataclass(frozen=True)
class Address:
    """A validated address.

    :param email: the address as we store it and send to (domain lower-cased, IDNA-checked).
    :param key: what two addresses must differ in to be two accounts: NFKC, then Unicode case
        folding, so ``Bob@x``, ``bob@x`` and full-width ``BOB@x`` are one account.
    """

    email: str
    key: str


def address_key(email: str) -> str:
    """Return the uniqueness key of an already-validated address."""
    return unicodedata.normalize("NFKC", email).casefold()


def parse_address(value: str, *, check_deliverability: bool = False) -> Address:
    """Validate one typed address and return it normalised.

    :raises InvalidAddress: with a reason to show next to the field.
    """
    value = value.strip()
    if not value:
        raise InvalidAddress(gettext("Enter your email address."))
    if len(value) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(
            gettext("An address has at most %(num)d characters.", num=MAX_ADDRESS_LENGTH)
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in value):
        raise InvalidAddress(gettext("The address contains characters an address cannot have."))
    if REPLACEMENT_CHARACTER in value:
        # email-validator would accept it, and mail would go to an address nobody typed.
        raise InvalidAddress(gettext("Part of the address could not be read; type it again."))
    try:
        result = email_validator.validate_email(
            value,
            check_deliverability=check_deliverability,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
        )
    except email_validator.EmailNotValidError as exc:
        # email-validator explains in English only; the reason is kept, with a translated lead.
        raise InvalidAddress(
            gettext("This is not a valid email address (%(detail)s)", detail=str(exc))
        ) from None
    normalised = result.normalized
    return Address(email=normalised, key=address_key(normalised))
