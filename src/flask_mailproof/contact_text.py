"""Check what a person typed into the contact form's name and message fields.

A leaf module: the form (to show a refusal next to its field) and the flow (which checks
again, for callers without a form) both use it, and it knows nothing of either.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidContactField
from .i18n import N_, format_number, gettext

# Control characters but tab and line feed (CR is folded into LF first): PostgreSQL refuses
# NUL, and escape sequences would reach the terminal of whoever lists messages.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_EMPTY_REASONS = {"name": N_("Enter your name."), "message": N_("Write your message.")}


def _has_format_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cf" for c in text)


def clean_contact_text(field: str, value: str, max_length: int) -> str:
    """Return ``value`` with line breaks as ``\\n`` and outer blanks stripped, or refuse it.

    Over ``max_length`` characters is refused, never cut: a truncated message says something
    its sender did not write.

    :raises InvalidContactField: empty, too long, or holding control characters.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidContactField(field, gettext(_EMPTY_REASONS.get(field, N_("Fill this in."))))
    if len(text) > max_length:
        reason = gettext(
            "Use at most %(limit)s characters; this has %(length)s.",
            limit=format_number(max_length),
            length=format_number(len(text)),
        )
        raise InvalidContactField(field, reason)
    if _CONTROL_CHARS.search(text):
        raise InvalidContactField(field, gettext("This contains control characters; remove them."))
    # A name is shown to the site's owner as who wrote: a bidi override (U+202E) would make it
    # read backwards, a zero-width character would make two names look alike. Messages may
    # keep them (emoji sequences need the zero-width joiner).
    if field == "name" and _has_format_characters(text):
        raise InvalidContactField(
            field, gettext("This contains invisible formatting characters; remove them.")
        )
    return text
