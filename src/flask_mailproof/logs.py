"""Log records that say which account and which client each event concerns, as text or JSON.

The flows log account ids (``extra={"account_id": ...}``) and never touch the request; the
filters here add the client's address when there is a request, so every event can be traced
to where it came from. :class:`JSONFormatter` writes one JSON object a line for a host's log
pipeline. Tokens and links are never put in a record, so no format can leak them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import typing as t

from flask import has_request_context, request

#: What a record's context attributes hold when the event has no account or no request.
UNKNOWN = "-"


def _client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def add_context(record: logging.LogRecord) -> None:
    """Set ``record.account_id`` and ``record.client_ip``, keeping values already set.

    Both are :data:`UNKNOWN` where the event has none, so a text format can always name them.
    """
    if getattr(record, "account_id", None) is None:
        record.account_id = UNKNOWN
    if getattr(record, "client_ip", None) is None:
        record.client_ip = _client_ip() or UNKNOWN


class ClientAddressFilter(logging.Filter):
    """Append ``(client <ip>)`` to each message and set the context attributes.

    On the authentication loggers themselves, so the client is named even in a host's
    plain ``%(message)s`` log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        client_ip = _client_ip()
        add_context(record)
        if client_ip and isinstance(record.msg, str) and isinstance(record.args, tuple):
            record.msg = f"{record.msg} (client %s)"
            record.args = (*record.args, client_ip)
        return True


class RequestContextFilter(logging.Filter):
    """Set ``account_id`` and ``client_ip`` on every record; the message is left as it is.

    For a handler, so records of every logger (delivery's too) carry both attributes that a
    format such as ``%(account_id)s %(client_ip)s`` names.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        add_context(record)
        return True


class JSONFormatter(logging.Formatter):
    """Format each record as one JSON object on one line (JSON lines).

    Keys: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``account_id`` and
    ``client_ip`` (``null`` where unknown), ``process``, and ``exception`` or ``stack`` when
    the record has one. Works without :class:`RequestContextFilter`: the client is looked up
    here if no filter set it. ``logging.config.dictConfig`` names it by its path::

        "formatters": {"json": {"()": "flask_mailproof.JSONFormatter"}}
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, t.Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "account_id": _known(getattr(record, "account_id", None)),
            "client_ip": _known(getattr(record, "client_ip", None)) or _client_ip(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an id or address object put in ``extra`` is still written, as text.
        return json.dumps(entry, ensure_ascii=False, default=str)


def _known(value: t.Any) -> t.Any:
    return None if value == UNKNOWN else value


_FILTER = ClientAddressFilter()


def auth_logger(name: str) -> logging.Logger:
    """Return the logger ``name`` with the client-address filter on it."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
