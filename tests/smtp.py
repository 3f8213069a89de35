"""A real SMTP server on 127.0.0.1 for tests, whose replies the test controls.

``server.replies`` holds the answers to the next DATA commands ("451 ..." or "550 ...");
when it is empty, messages are accepted. ``server.refused`` maps recipient addresses to the
answer RCPT TO gets for them ("550 5.1.1 no such user"). ``server.hold`` delays every answer
to DATA; ``server.stop()`` and ``server.start()`` take the server down and up on the same port;
``server.peak_in_flight`` tells how many messages it was answering at most at once.
"""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import socket
import threading
import time
import typing as t

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SMTPServer:
    """An aiosmtpd server in a thread, recording what it accepts and every DATA it saw."""

    def __init__(self, port: int | None = None, *, smtputf8: bool = False) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        #: Whether the server advertises SMTPUTF8 (RFC 6531) and accepts UTF-8 envelopes.
        self.smtputf8 = smtputf8
        #: The envelope of every accepted message (``mail_from``, ``rcpt_tos``,
        #: ``mail_options``, ``original_content``), in the order of :attr:`received`.
        self.envelopes: list[Envelope] = []
        #: Replies for the next DATA commands, oldest first; empty: accept.
        self.replies: collections.deque[str] = collections.deque()
        #: Replies to RCPT TO by recipient address (lower-cased); others are accepted.
        self.refused: dict[str, str] = {}
        #: Seconds to wait before answering each DATA.
        self.hold = 0.0
        #: Accepted messages, parsed.
        self.received: list[email.message.EmailMessage] = []
        #: ``Message-ID`` of every DATA command, whatever its answer.
        self.attempts: list[str] = []
        #: Set when a DATA command arrives (cleared by the test).
        self.data_started = threading.Event()
        #: DATA commands being answered right now, and the most there ever were at once.
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def config(self) -> dict[str, t.Any]:
        """Flask-Mail settings pointing at this server."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_TIMEOUT": 5}

    def start(self) -> None:
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            ready_timeout=5,
            enable_SMTPUTF8=self.smtputf8,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def recipients(self) -> list[str]:
        return [str(message["To"]) for message in self.received]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[email.message.EmailMessage]:
        """Wait until at least ``count`` messages were accepted; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} mail(s) arrived"
            time.sleep(0.05)
        return list(self.received)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.refused.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        with self._lock:
            self.attempts.append(str(message["Message-ID"]))
            reply = self.replies.popleft() if self.replies else None
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self.data_started.set()
        try:
            if self.hold:
                await asyncio.sleep(self.hold)
        finally:
            with self._lock:
                self.in_flight -= 1
        if reply is not None:
            return reply
        with self._lock:
            self.received.append(message)
            self.envelopes.append(envelope)
        return "250 OK"
