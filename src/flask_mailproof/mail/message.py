"""Build RFC 5322 messages, refusing any header value that could smuggle in another header."""

from __future__ import annotations

import dataclasses
import email.errors
import email.header
import email.headerregistry
import email.policy
import email.utils
import re
from email.message import EmailMessage

from ..errors import HeaderInjection

# CR, LF and every other control character; CPython's own checks missed encoded newlines in
# some header paths (CVE-2024-6923), so nothing user-typed reaches a header unchecked.
_UNSAFE_HEADER_CHARS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


class _HeaderClasses(email.headerregistry.HeaderRegistry):
    """The stdlib's header registry, keeping the class it makes for each header name.

    ``HeaderRegistry`` builds a new class with ``type()`` every time a header is set or read,
    a tenth of the time it takes to build a mail; the class depends on the name alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[email.headerregistry.BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[email.headerregistry.BaseHeader]:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = super().__getitem__(name)
        return made


#: The SMTP policies (CRLF line ends), with header classes made once per name.
_SMTP = email.policy.SMTP.clone(header_factory=_HeaderClasses())
_SMTPUTF8 = email.policy.SMTPUTF8.clone(header_factory=_HeaderClasses())


@dataclasses.dataclass(frozen=True)
class OutgoingMail:
    """One mail to one recipient, rendered and ready to be stored."""

    sender: str
    recipient: str
    subject: str
    text: str
    html: str
    message_id: str
    reply_to: str | None = None


def check_header_value(name: str, value: str) -> str:
    """Return ``value`` if it is safe in a header.

    :raises HeaderInjection: it holds a line break or another control character, plainly or
        inside an encoded word.
    """
    if _UNSAFE_HEADER_CHARS.search(value) or _UNSAFE_HEADER_CHARS.search(_decoded(value)):
        raise HeaderInjection(f"{name} contains a line break or control character")
    return value


def _decoded(value: str) -> str:
    """Return ``value`` with RFC 2047 encoded words decoded, as a mail client would show it.

    ``=?utf-8?q?=0D=0A...?=`` carries a line break that only appears once decoded.
    """
    if "=?" not in value:
        return value
    try:
        return "".join(
            part.decode(charset or "ascii", "replace") if isinstance(part, bytes) else part
            for part, charset in email.header.decode_header(value)
        )
    except (ValueError, LookupError, email.errors.HeaderParseError):
        return "\x00"  # undecodable encoded words are refused too


def make_message_id(domain: str) -> str:
    """Return a new globally unique ``Message-ID`` on ``domain``."""
    return email.utils.make_msgid(domain=domain)


def needs_smtputf8(mail: OutgoingMail) -> bool:
    """Return whether an address of ``mail`` has a non-ASCII local part (RFC 6531).

    Domains are stored in their IDNA form, and a non-ASCII display name is an encoded word:
    only a local part cannot be written in ASCII.
    """
    values = [mail.sender, mail.recipient, *([mail.reply_to] if mail.reply_to else [])]
    return not all(address.isascii() for _, address in email.utils.getaddresses(values))


def build_mime(mail: OutgoingMail) -> EmailMessage:
    """Return a multipart/alternative message, text first, with checked headers.

    An all-ASCII mail is all ASCII (encoded words, quoted-printable parts). A mail with a
    non-ASCII address is built for SMTPUTF8: its headers in UTF-8 as they are, since an encoded
    word inside an address is not an address (RFC 2047 section 5); see :func:`is_smtputf8`.
    """
    policy = _SMTPUTF8 if needs_smtputf8(mail) else _SMTP
    message = EmailMessage(policy=policy)
    message["From"] = check_header_value("From", mail.sender)
    message["To"] = check_header_value("To", mail.recipient)
    message["Subject"] = check_header_value("Subject", mail.subject)
    message["Message-ID"] = check_header_value("Message-ID", mail.message_id)
    message["Date"] = email.utils.formatdate(localtime=False)
    if mail.reply_to is not None:
        message["Reply-To"] = check_header_value("Reply-To", mail.reply_to)
    # Quoted-printable keeps the body ASCII whatever the language (and so the whole message,
    # unless an address needs SMTPUTF8).
    message.set_content(mail.text, subtype="plain", cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    return message


def is_smtputf8(raw: str, recipient: str) -> bool:
    """Return whether the stored message ``raw`` to ``recipient`` must go with SMTPUTF8.

    :func:`build_mime` makes every other message pure ASCII, so no column is needed.
    """
    return not (raw.isascii() and recipient.isascii())


def envelope_sender(header_value: str) -> str:
    """Return the bare address of a ``From`` value for the SMTP envelope."""
    return email.utils.parseaddr(header_value)[1] or header_value
