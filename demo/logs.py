"""Send the extension's authentication events to stderr, where gunicorn and ``flask run`` log.

Without this, Python drops records below WARNING when nothing configured logging: gunicorn
sets up only its own loggers, so a served demo showed lockouts and nothing else.
"""

from __future__ import annotations

import logging
import logging.config
import typing as t

#: The loggers the demo writes out: the extension's events (with the client IP its auth
#: loggers add) and the demo's own.
LOGGERS = ("flask_mailproof", "demo")

#: gunicorn's own line shape, so the two read as one log.
LOGGING: dict[str, t.Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "server": {
            "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        }
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "server",
        }
    },
    # Not propagated: a Celery worker configures the root logger after the app is built, and
    # would print every event twice.
    "loggers": {
        name: {"level": "INFO", "handlers": ["stderr"], "propagate": False} for name in LOGGERS
    },
}


def configure_logging() -> None:
    """Log INFO and above of :data:`LOGGERS` to stderr, unless logging is set up already.

    An application server or test runner that configured the root logger (pytest, Celery,
    a ``--log-config``) keeps its own setup, and a second app in one process adds no second
    handler.
    """
    if logging.getLogger().handlers or any(logging.getLogger(n).handlers for n in LOGGERS):
        return
    logging.config.dictConfig(LOGGING)
