"""The exceptions the flows raise; views catch them at the depth they need."""

from __future__ import annotations

import typing as t


class MailproofError(Exception):
    """Base of every error this extension raises on purpose."""


class ConfigurationError(MailproofError):
    """The application's settings are unsafe or incomplete; raised at start-up."""


class TokenError(MailproofError):
    """A link's token cannot be used."""


class TokenInvalid(TokenError):
    """The token is malformed, tampered with, made for another purpose, or its account is gone.

    It carries no reason: every bad link gets the same answer, so there is none to leak.
    """


class TokenExpired(TokenError):
    """The token's signature is ours but its time is up.

    :param payload: the signed payload, still trustworthy as to who it was made for, so a fresh
        link can be sent to that account.
    """

    def __init__(self, payload: t.Any = None) -> None:
        super().__init__("token expired")
        self.payload = payload


class TokenSuperseded(TokenError):
    """A newer link of the same purpose was sent since; only the latest one works."""


class TokenUsed(TokenError):
    """The token did its job already (a reset done, a message released)."""


class OtherDevice(TokenError):
    """A good sign-in link opened in a browser other than the one that asked for it.

    It signs in only once the person confirms that they are signing in on another device, so
    a link forwarded (or planted) does not hand over a session silently.
    """


class CodeError(MailproofError):
    """A verification code cannot be used."""


class CodeInvalid(CodeError):
    """Wrong code, no live code, or no such account: deliberately one answer for all three."""


class CodeExpired(CodeError):
    """The code's time is up; ask for a new one."""


class CodeExhausted(CodeInvalid):
    """Too many wrong tries on this code; ask for a new one.

    A :class:`CodeInvalid`, and answered as one: an unknown address has no code to exhaust,
    so a distinct answer after the last try would tell which addresses have accounts.
    """


class AlreadyConfirmed(MailproofError):
    """The address this token confirms is confirmed already."""


class RateLimited(MailproofError):
    """Too soon to do this again.

    :param retry_after: seconds until it is allowed.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class AddressTaken(MailproofError):
    """The address asked for belongs to another account (or did by the time we tried)."""


class InvalidCredentials(MailproofError):
    """The address and password do not name an account; deliberately says no more."""


class FreshLoginRequired(MailproofError):
    """An account without a password must have signed in by an emailed link or code lately.

    Where others type their current password (a password or address change), such an account
    shows a recent proof of its mailbox instead (``MAILPROOF_FRESH_LOGIN_MAX_AGE``).
    """


class PasswordRejected(MailproofError):
    """A new password breaks the policy.

    :param reason: a sentence to show next to the password field.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidAddress(MailproofError):
    """A typed address is not one we send mail to.

    :param reason: a sentence to show next to the address field.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidContactField(MailproofError):
    """A contact form's name or message is empty, too long, or holds control characters.

    :param field: ``"name"`` or ``"message"``.
    :param reason: a sentence to show next to that field.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class HeaderInjection(MailproofError):
    """A value meant for a mail header holds a line break or another control character."""


class DeliveryError(MailproofError):
    """A transport could not hand a message over."""


class TemporaryDeliveryError(DeliveryError):
    """Worth retrying: connection refused or dropped, a timeout, a 4xx reply."""


class PermanentDeliveryError(DeliveryError):
    """Not worth retrying: the server refused the message with a 5xx reply.

    :param reply_code: the server's reply code, when a server replied.
    :param address_refused: the refusal came at RCPT or DATA, about this recipient: the
        address is put on the suppression list (a refused sender or a bug is not its fault).
    """

    def __init__(
        self, message: str, *, reply_code: int | None = None, address_refused: bool = False
    ) -> None:
        super().__init__(message)
        self.reply_code = reply_code
        self.address_refused = address_refused


class AddressSuppressed(MailproofError):
    """Mail to this address was refused for good (a bounce): none is written until it changes,
    is confirmed, or an operator clears it.

    :param suppression: the suppression record (when, the server's reply).
    """

    def __init__(self, suppression: t.Any) -> None:
        super().__init__("mail to this address cannot be delivered")
        self.suppression = suppression


class InvalidBounceReport(MailproofError):
    """A bounce webhook call is unsigned, stale, replayed or malformed; nothing was recorded.

    :param status: the HTTP status to answer with (401 for the signature, 400 for the body).
    :param code: a stable, machine-readable word for the JSON answer.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
