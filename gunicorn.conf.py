"""gunicorn settings for serving the demo (or an app built the same way) in production.

    gunicorn -c gunicorn.conf.py 'demo:create_app()'

Every value can be changed from the environment, so one file serves every machine.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import typing as t

#: Where to listen; behind a reverse proxy on the same machine, loopback is enough.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")

#: Worker processes: gunicorn's own advice of 2 per core plus 1. Each keeps its own database
#: connection pool, so workers x pool size must stay below the database's connection limit.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))

#: Synchronous workers: a request holds its worker until answered. Password hashing is
#: CPU-bound, so threads would not add much.
worker_class = "sync"

#: Seconds a request may run before its worker is killed and replaced; a registration hashes
#: once and writes a few rows, so anything near this is a stuck database or SMTP peer.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))

#: Seconds workers get to finish their requests on a restart or shutdown.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))

#: Seconds to hold an idle keep-alive connection: short, as the proxy in front pools its own.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))

#: On: the master imports and builds the app once, and the workers it forks share those pages
#: instead of each importing its own copy (docs/performance.md: 99 -> 48 MiB unique per worker).
#: Nothing that must belong to one process starts before the fork: the outbox delivery thread
#: starts on a worker's first request, and the master hands its workers no database connection
#: (``when_ready`` below). ``GUNICORN_PRELOAD=false`` builds the app in each worker instead.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no", "off")

#: Addresses whose ``X-Forwarded-Proto`` gunicorn believes; the app's own ``PROXY_FIX_*``
#: settings decide the rest (client address, host).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

#: Logs to stdout/stderr, for the service manager to collect.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

#: Prometheus metrics across workers (``MAILPROOF_METRICS_PATH``): with this set, every worker
#: writes its counts to files in this directory and a scrape of any worker adds them all up
#: (prometheus_client's multiprocess mode, docs/deploy.md "Watching it run").
metrics_directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if metrics_directory:
    # Made as the settings are read: with preload_app the app, whose metrics check that the
    # directory exists, is built before on_starting runs (which empties it).
    os.makedirs(metrics_directory, exist_ok=True)


def on_starting(server: object) -> None:
    """Give the metrics an empty directory: files of an earlier run would count again.

    The master's own files (made while preloading) go too: it never counts anything, and a
    worker writes files of its own pid from its first count on.
    """
    if metrics_directory:
        for name in os.listdir(metrics_directory):
            if name.endswith(".db"):
                os.remove(os.path.join(metrics_directory, name))


def when_ready(server: t.Any) -> None:
    """Hand the workers a master with no connection and a heap the collector leaves alone.

    With ``preload_app`` the app was built here, in the master, before any worker was forked.
    """
    if not preload_app:
        return
    _close_database_pools(server.app.wsgi())
    # Everything alive now is moved out of the collector's reach: a full collection in a worker
    # would otherwise write to every object's header and so copy nearly every page it shares
    # (measured: 67 instead of 48 MiB unique per worker once workers have collected).
    gc.freeze()


def _close_database_pools(app: t.Any) -> None:
    """Close every connection the app's Flask-SQLAlchemy engines hold in the master.

    A pooled connection inherited by two workers would be one socket (or SQLite file handle)
    used by two processes at once; each worker opens its own on first use instead.
    """
    extension = getattr(app, "extensions", {}).get("sqlalchemy")
    if extension is None:
        return
    with app.app_context():
        for engine in extension.engines.values():
            engine.dispose()


def child_exit(server: object, worker: t.Any) -> None:
    """Tell prometheus_client a worker is gone, as its multiprocess mode asks.

    Its counters stay counted (their files are kept); only its live gauges go.
    """
    if metrics_directory:
        from prometheus_client import multiprocess  # the metrics extra; only when asked for

        multiprocess.mark_process_dead(worker.pid)
