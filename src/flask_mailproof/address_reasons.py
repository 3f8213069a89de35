"""Say in the visitor's language why email-validator refused an address.

email-validator explains in English only. Its common refusals are recognised here by their
wording and said in our own translated sentences; a refusal not known here keeps its English
detail behind a translated lead, so nothing it says is lost.
"""

from __future__ import annotations

import re
import typing as t

from .i18n import gettext

_Explain = t.Callable[["re.Match[str]"], str]

#: email-validator's messages (2.x), matched from their start, and what we say instead.
_REASONS: tuple[tuple[re.Pattern[str], _Explain], ...] = tuple(
    (re.compile(pattern), explain)
    for pattern, explain in (
        (
            r"An email address must have an @-sign\.",
            lambda m: gettext("An address needs an @ sign, as in name@example.com."),
        ),
        (
            r"There must be something before the @-sign\.",
            lambda m: gettext("Something must come before the @."),
        ),
        (
            r"There must be something after the @-sign\.",
            lambda m: gettext("A domain must come after the @, as in name@example.com."),
        ),
        (
            r"The part after the @-sign is not valid\. It should have a period\.",
            lambda m: gettext("The part after the @ needs a dot, as in example.com."),
        ),
        (
            r"An email address cannot have two periods in a row\.",
            lambda m: gettext("An address cannot have two dots in a row."),
        ),
        (
            r"An email address cannot (start|end) with a period|An email address cannot have "
            r"a period immediately (before|after) the @-sign",
            lambda m: gettext(
                "A dot cannot stand at the start or the end of an address, nor next to the @."
            ),
        ),
        (
            r"An email address cannot have a period and a hyphen next to each other|"
            r"An email address cannot (start|end) with a hyphen|An email address cannot have "
            r"a hyphen immediately (before|after) the @-sign|An email address cannot have two "
            r"letters followed by two dashes",
            lambda m: gettext(
                "A hyphen cannot stand next to a dot, nor at the start or the end of the domain."
            ),
        ),
        (
            r"The email address contains (an )?invalid character|The email address contains "
            r"unsafe characters|The part after the @-sign contains invalid characters|"
            r"The email address contains invalid characters",
            lambda m: gettext("The address contains characters an address cannot have."),
        ),
        (
            r"The part after the @-sign is not valid\. It is not within a valid top-level domain\.",
            lambda m: gettext(
                "The part after the @ does not end in a known top-level domain, such as .com "
                "or .de."
            ),
        ),
        (
            r"The part after the @-sign is a special-use or reserved name",
            lambda m: gettext("The part after the @ is a reserved name that cannot receive mail."),
        ),
        (
            r"The email address is too long",
            lambda m: gettext("The address is too long."),
        ),
        (
            r"A display name and angle brackets|There can't be anything after the email "
            r"address\.|An open angle bracket",
            lambda m: gettext("Type the address alone, without a name or anything around it."),
        ),
        (
            r"A bracketed IP address after the @-sign is not allowed here\.",
            lambda m: gettext("Type a domain after the @, not an IP address."),
        ),
        (
            r"The domain name (?P<domain>\S+) does not exist\.",
            lambda m: gettext(
                "The domain %(domain)s does not exist: check its spelling.", domain=m["domain"]
            ),
        ),
        (
            r"The domain name (?P<domain>\S+) does not (accept|send) email\.",
            lambda m: gettext("The domain %(domain)s does not accept mail.", domain=m["domain"]),
        ),
    )
)


def explain_refusal(detail: str) -> str:
    """Return why an address was refused, in the current language, from email-validator's
    ``detail``."""
    for pattern, explain in _REASONS:
        match = pattern.match(detail)
        if match is not None:
            return explain(match)
    return gettext("This is not a valid email address (%(detail)s)", detail=detail)
