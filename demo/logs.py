"""Send the extension's events, authentication and delivery, to stderr, as text or JSON lines.

Without this, Python drops records below WARNING when nothing configured logging: gunicorn
sets up only its own loggers, so a served demo showed lockouts and nothing else. stderr is
gunicorn's error log (``errorlog = "-"``) and where ``flask run`` logs.
"""

from __future__ import annotations

import logging
import logging.config
import typing as t

#: The loggers the demo writes out: the extension's events (with the client IP its auth
#: loggers add) and the demo's own.
LOGGERS = ("flask_mailproof", "demo")

#: ``LOG_FORMAT``'s values: gunicorn's own line shape, so the two read as one log, or one
#: JSON object a line for a log pipeline.
FORMATS = ("text", "json")

_FORMATTERS: dict[str, dict[str, t.Any]] = {
    "text": {
        "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s "
        "[account %(account_id)s, client %(client_ip)s]",
        "datefmt": "%Y-%m-%d %H:%M:%S %z",
    },
    "json": {"()": "flask_mailproof.JSONFormatter"},
}


def logging_config(log_format: str = "text") -> dict[str, t.Any]:
    """Return the ``dictConfig`` dictionary for ``log_format`` (one of :data:`FORMATS`)."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {log_format: _FORMATTERS[log_format]},
        # On the handler, so delivery's records, not only authentication's, name the account
        # and client (or "-").
        "filters": {"context": {"()": "flask_mailproof.RequestContextFilter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        # Not propagated: a Celery worker configures the root logger after the app is built,
        # and would print every event twice.
        "loggers": {
            name: {"level": "INFO", "handlers": ["stderr"], "propagate": False} for name in LOGGERS
        },
    }


def configure_logging(log_format: str = "text") -> None:
    """Log INFO and above of :data:`LOGGERS` to stderr, unless logging is set up already.

    An application server or test runner that configured the root logger (pytest, Celery,
    a ``--log-config``) keeps its own setup, and a second app in one process adds no second
    handler.
    """
    if logging.getLogger().handlers or any(logging.getLogger(n).handlers for n in LOGGERS):
        return
    logging.config.dictConfig(logging_config(log_format))
