"""gunicorn settings for serving the demo (or an app built the same way) in production.

    gunicorn -c gunicorn.conf.py 'demo:create_app()'

Every value can be changed from the environment, so one file serves every machine.
"""

from __future__ import annotations

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

#: Off: each worker builds the app itself after the fork, so no database connection is shared
#: between processes and each worker starts its own outbox delivery thread (threads do not
#: survive a fork).
preload_app = False

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


def on_starting(server: object) -> None:
    """Give the metrics an empty directory: files of an earlier run would count again."""
    if metrics_directory:
        os.makedirs(metrics_directory, exist_ok=True)
        for name in os.listdir(metrics_directory):
            if name.endswith(".db"):
                os.remove(os.path.join(metrics_directory, name))


def child_exit(server: object, worker: t.Any) -> None:
    """Tell prometheus_client a worker is gone, as its multiprocess mode asks.

    Its counters stay counted (their files are kept); only its live gauges go.
    """
    if metrics_directory:
        from prometheus_client import multiprocess  # the metrics extra; only when asked for

        multiprocess.mark_process_dead(worker.pid)
