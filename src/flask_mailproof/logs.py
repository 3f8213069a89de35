"""Loggers for authentication events, which say which client IP each event came from.

The flows log account ids and never touch the request; the filter here adds the client's
address when there is a request, so every event can be traced to where it came from.
"""

from __future__ import annotations

import logging

from flask import has_request_context, request


class ClientAddressFilter(logging.Filter):
    """Append ``(client <ip>)`` to each record and set ``record.client_ip``."""

    def filter(self, record: logging.LogRecord) -> bool:
        client_ip = request.remote_addr if has_request_context() else None
        record.client_ip = client_ip or "-"
        if client_ip and isinstance(record.msg, str) and isinstance(record.args, tuple):
            record.msg = f"{record.msg} (client %s)"
            record.args = (*record.args, client_ip)
        return True


_FILTER = ClientAddressFilter()


def auth_logger(name: str) -> logging.Logger:
    """Return the logger ``name`` with the client-address filter on it."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
