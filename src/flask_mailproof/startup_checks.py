"""Warnings at start-up about settings that are allowed but expose something."""

from __future__ import annotations

import logging

from .mail.transports import SMTPTransport, Transport
from .settings import Settings

log = logging.getLogger("flask_mailproof.startup")

#: Who may read ``/_mail`` while it is on, by ``MAILPROOF_DEV_MAILBOX_ANY_CLIENT``.
MAILBOX_READERS = {
    False: "clients on this machine (loopback addresses) and clients of Flask's development server",
    True: "any client that can reach the site (MAILPROOF_DEV_MAILBOX_ANY_CLIENT is on)",
}


def warn_about_exposure(settings: Settings, transport: Transport, *, debug: bool) -> None:
    """Log a warning for each setting that exposes mail or credentials."""
    if settings.dev_mailbox_enabled(debug=debug):
        log.warning(
            "The development mailbox is on: /_mail shows every mail this site sends, with "
            "live sign-in, confirmation and reset links, to %s. Outside development set "
            "MAILPROOF_DEV_MAILBOX=false and FLASK_DEBUG=0.",
            MAILBOX_READERS[settings.dev_mailbox_any_client],
        )
    if (
        isinstance(transport, SMTPTransport)
        and transport.username
        and not (transport.use_tls or transport.use_ssl)
    ):
        log.warning(
            "MAIL_USERNAME is set but neither MAIL_USE_TLS nor MAIL_USE_SSL: the SMTP password "
            "and every mail, links included, cross the network to %s unencrypted.",
            transport.host,
        )
