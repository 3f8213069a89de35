"""Validate and normalise email addresses, and derive the key that makes them unique."""

from __future__ import annotations

import dataclasses
import unicodedata

import email_validator

from .address_reasons import explain_refusal
from .errors import InvalidAddress
from .i18n import gettext

#: RFC 5321's limit on a forward path, and email-validator's.
MAX_ADDRESS_LENGTH = 254

#: RFC 5321's limit on a local part, in octets (of its UTF-8 form, RFC 6531).
MAX_LOCAL_PART_OCTETS = 64

#: What a form parser puts where the request had bytes that are not UTF-8.
REPLACEMENT_CHARACTER = "\ufffd"


@dataclasses.dataclass(frozen=True)
class Address:
    """A validated address.

    :param email: the address as we store it and send to: the local part as typed, in Unicode
        NFC (it may be non-ASCII: such mail goes out with SMTPUTF8), and the domain lower-cased
        and always in its ASCII (IDNA) form (``bücher.de`` becomes ``xn--bcher-kva.de``), so
        one domain has one spelling and only the local part can need SMTPUTF8.
    :param key: what two addresses must differ in to be two accounts: NFKC, then Unicode case
        folding, so ``Bob@x`` and ``bob@x`` are one account, and so are ``straße@x`` and
        ``STRASSE@x``; ``josé@x`` and ``jose@x`` are two, and so are ``mike@x`` and the
        same spelt with a dotless i (CVE-2019-19844).
    """

    email: str
    key: str


def address_key(email: str) -> str:
    """Return the uniqueness key of an address in the form :func:`parse_address` returns."""
    return unicodedata.normalize("NFKC", email).casefold()


def parse_address(value: str, *, check_deliverability: bool = False) -> Address:
    """Validate one typed address and return it normalised.

    :raises InvalidAddress: with a reason to show next to the field.
    """
    value = value.strip()
    _refuse_what_no_address_holds(value)
    result = _validated(value, check_deliverability=check_deliverability)
    local = _checked_local_part(result.local_part)
    # The domain in its ASCII (IDNA) form, which every server carries; the local part is NFC.
    normalised = f"{local}@{result.ascii_domain}"
    return Address(email=normalised, key=address_key(normalised))


#: Unicode categories no address holds: controls, format characters (bidi overrides, zero
#: widths), surrogates and line or paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _refuse_what_no_address_holds(value: str) -> None:
    if not value:
        raise InvalidAddress(gettext("Enter your email address."))
    if len(value) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(
            gettext("An address has at most %(num)d characters.", num=MAX_ADDRESS_LENGTH)
        )
    if any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in value):
        raise InvalidAddress(gettext("The address contains characters an address cannot have."))
    # U+FFFD is what a form parser makes of bytes that are not UTF-8: email-validator would
    # accept it, and mail would go to an address nobody typed.
    if REPLACEMENT_CHARACTER in value:
        raise InvalidAddress(gettext("Part of the address could not be read; type it again."))
    # "%XX" is how Werkzeug keeps undecodable bytes, "%" also routes mail onwards through a
    # relay ("the percent hack"), and "=?...?=" is an RFC 2047 encoded word that mail software
    # may decode into a header line break (CVE-2024-6923).
    if "%" in value or ("=?" in value and "?=" in value):
        raise InvalidAddress(gettext("The address contains characters an address cannot have."))


def _validated(value: str, *, check_deliverability: bool) -> email_validator.ValidatedEmail:
    try:
        return email_validator.validate_email(
            value,
            check_deliverability=check_deliverability,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            # A non-ASCII local part is mailed with SMTPUTF8 (RFC 6531); a server without it
            # fails that one message, never the others.
            allow_smtputf8=True,
            # RFC 5321's limit on the local part is ours to check, in octets: email-validator's
            # optional one (strict=True) counts characters, and says only "too long".
        )
    except email_validator.EmailNotValidError as exc:
        # email-validator explains in English only: its common reasons are said in ours.
        raise InvalidAddress(explain_refusal(str(exc))) from None


def _checked_local_part(local: str) -> str:
    if len(local.encode("utf-8")) > MAX_LOCAL_PART_OCTETS:
        raise InvalidAddress(
            gettext("The part before the @ has at most %(num)d bytes.", num=MAX_LOCAL_PART_OCTETS)
        )
    # Full-width letters, the Kelvin sign, ligatures...: the key folds them onto plain letters,
    # so "mike@x" typed in full-width letters would squat mike@x's account and take its mail.
    # Nobody's mailbox is spelt so; refused rather than stored.
    if unicodedata.normalize("NFKC", local) != local:
        raise InvalidAddress(gettext("Type the address in ordinary letters."))
    return local
