"""Transports hand stored messages to the world: SMTP, or the development mailbox."""

from __future__ import annotations

import contextlib
import dataclasses
import smtplib
import ssl
import typing as t

from ..errors import PermanentDeliveryError, TemporaryDeliveryError


class Connection(t.Protocol):
    """An open channel for one batch of messages."""

    def send(
        self, envelope_from: str, recipient: str, raw: bytes, *, smtputf8: bool = False
    ) -> None:
        """Send one message or raise a :class:`~flask_mailproof.errors.DeliveryError`.

        :param smtputf8: the envelope or headers are UTF-8 (RFC 6531): send with SMTPUTF8,
            or fail permanently where the server cannot take it.
        """


class Transport(t.Protocol):
    """Something that opens connections; one connection serves a whole batch."""

    @property
    def name(self) -> str:
        """A short name for logs and listings."""

    def connect(self) -> contextlib.AbstractContextManager[Connection]:
        """Open a connection for a batch."""


class DevMailboxTransport:
    """Deliver nowhere: the outbox row itself is what ``/_mail`` shows."""

    name = "devmailbox"

    @contextlib.contextmanager
    def connect(self) -> t.Iterator[Connection]:
        yield self

    def send(
        self, envelope_from: str, recipient: str, raw: bytes, *, smtputf8: bool = False
    ) -> None:
        return None


@dataclasses.dataclass(frozen=True)
class SMTPTransport:
    """Send over SMTP with Flask-Mail's settings, reusing one connection per batch."""

    host: str
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    name: str = "smtp"

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> SMTPTransport:
        """Read ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS``, ``MAIL_USE_SSL``,
        ``MAIL_USERNAME``, ``MAIL_PASSWORD`` and ``MAIL_TIMEOUT``."""
        use_ssl = bool(config.get("MAIL_USE_SSL", False))
        return cls(
            host=str(config["MAIL_SERVER"]),
            port=int(config.get("MAIL_PORT") or (465 if use_ssl else 25)),
            use_tls=bool(config.get("MAIL_USE_TLS", False)),
            use_ssl=use_ssl,
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            timeout=float(config.get("MAIL_TIMEOUT", 10.0)),
        )

    @contextlib.contextmanager
    def connect(self) -> t.Iterator[Connection]:
        connection = _SMTPConnection(self)
        try:
            yield connection
        finally:
            connection.close()

    def open_client(self) -> smtplib.SMTP:
        """Open, secure and authenticate one SMTP session."""
        try:
            if self.use_ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            # Every failure before a message is sent is about the server or our settings, not
            # the message: retried (with backoff) until someone fixes it, never failed for good.
            raise TemporaryDeliveryError(f"cannot connect: {exc!r}") from None
        try:
            if self.use_tls:
                client.starttls(context=ssl.create_default_context())
            if self.username and self.password:
                client.login(self.username, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            # A half-open session (no STARTTLS, refused login) must not leak its socket.
            client.close()
            raise TemporaryDeliveryError(f"cannot connect: {exc!r}") from None
        return client


class _SMTPConnection:
    """One SMTP session, opened on first use and reopened after it breaks."""

    def __init__(self, transport: SMTPTransport) -> None:
        self._transport = transport
        self._client: smtplib.SMTP | None = None
        self._connect_error: TemporaryDeliveryError | PermanentDeliveryError | None = None

    def send(
        self, envelope_from: str, recipient: str, raw: bytes, *, smtputf8: bool = False
    ) -> None:
        if self._connect_error is not None:
            # The server could not be reached for this batch: fail the rest fast rather than
            # wait one timeout per message; they are retried with the same backoff.
            raise self._connect_error
        if self._client is None:
            try:
                self._client = self._transport.open_client()
            except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
                self._connect_error = exc
                raise
        try:
            if smtputf8:
                self._require_smtputf8(self._client)
            self._client.sendmail(
                envelope_from, [recipient], raw, mail_options=["SMTPUTF8"] if smtputf8 else []
            )
        except smtplib.SMTPNotSupportedError:
            # Raised before MAIL FROM is sent, so the session is clean for the next message.
            raise _no_smtputf8() from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _classify_reply(code, reply, address_refused=True) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                self._reset()
            # At DATA the one recipient's server refused this mail; at MAIL FROM, our sender.
            refused = isinstance(exc, smtplib.SMTPDataError)
            raise _classify_reply(exc.smtp_code, exc.smtp_error, address_refused=refused) from None
        except (OSError, smtplib.SMTPException) as exc:
            # The session is in an unknown state: drop it, the next message reconnects.
            self._drop()
            raise TemporaryDeliveryError(f"connection lost: {exc!r}") from None
        except (TemporaryDeliveryError, PermanentDeliveryError):
            raise  # decided above, with the session in a known state
        except Exception:
            # Anything else (a bug, a value smtplib cannot encode) may have left a transaction
            # open half-way, which would make the next message's MAIL FROM fail: start afresh.
            self._drop()
            raise

    @staticmethod
    def _require_smtputf8(client: smtplib.SMTP) -> None:
        # A server that greets with HELO, or does not list SMTPUTF8, cannot take the message;
        # asking again will not teach it, so the message fails for good, alone.
        client.ehlo_or_helo_if_needed()
        if not (client.does_esmtp and client.has_extn("smtputf8")):
            raise _no_smtputf8()

    def _reset(self) -> None:
        """Clear the transaction after a refusal so the session can carry the next message."""
        try:
            if self._client is not None:
                self._client.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._client.close()
        self._client = None

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._client.quit()
        self._drop()


def _no_smtputf8() -> PermanentDeliveryError:
    return PermanentDeliveryError(
        "the mail server does not support SMTPUTF8 (RFC 6531), which this message needs for "
        "its non-ASCII address"
    )


def _classify_reply(
    code: int, reply: bytes | str, *, address_refused: bool = False
) -> TemporaryDeliveryError | PermanentDeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    if 400 <= code < 500:
        return TemporaryDeliveryError(f"{code} {text}")
    return PermanentDeliveryError(
        f"{code} {text}", reply_code=code, address_refused=address_refused and code >= 500
    )


def transport_from_config(config: t.Mapping[str, t.Any]) -> Transport:
    """Return SMTP when ``MAIL_SERVER`` is set, the development mailbox otherwise."""
    if config.get("MAIL_SERVER"):
        return SMTPTransport.from_config(config)
    return DevMailboxTransport()
