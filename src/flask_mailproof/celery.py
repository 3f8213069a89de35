"""Deliver the outbox with Celery: a task per batch after each commit, plus a periodic sweep.

``MAILPROOF_DELIVERY = "celery"`` makes every commit that wrote mail queue a
``mailproof.deliver`` task (ids in batches of ``MAILPROOF_DELIVERY_BATCH_SIZE``) on the Redis
broker at ``REDIS_URL``. Any number of workers consume them; claims in the database keep two
workers from sending one message. The ``mailproof.sweep`` task, run by Celery beat every
``MAILPROOF_DELIVERY_INTERVAL`` seconds, queues what no task carries: mail committed while the
broker was down, retries that came due, and messages whose worker died (expired claims).

Start a worker (with an embedded beat) against your app::

    # myapp/celery_app.py
    from flask_mailproof.celery import make_celery
    from myapp import create_app

    flask_app = create_app()
    celery = make_celery(flask_app)

    $ celery -A myapp.celery_app worker -B
"""

from __future__ import annotations

import itertools
import logging
import typing as t

from celery import Celery
from celery.signals import worker_process_init

from .errors import ConfigurationError
from .mail.delivery import due_ids, worker_name
from .mail.worker import deliver_batch
from .state import current_state

if t.TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("flask_mailproof.delivery")

#: Name of the task that delivers given outbox ids (those still due).
DELIVER_TASK = "mailproof.deliver"
#: Name of the periodic task that queues due messages no task carries.
SWEEP_TASK = "mailproof.sweep"
#: Key in ``app.extensions`` of the Celery application made for a Flask application.
_EXTENSION_KEY = "mailproof.celery"
#: Most ids one sweep queues; the next sweep takes the rest.
_SWEEP_LIMIT = 10_000


def make_celery(app: Flask) -> Celery:
    """Return the Celery application delivering ``app``'s outbox, made on first call.

    Its broker is ``REDIS_URL``; extra Celery settings can come from ``app.config["CELERY"]``.

    :raises ConfigurationError: ``REDIS_URL`` is not set.
    """
    existing = app.extensions.get(_EXTENSION_KEY)
    if existing is not None:
        return t.cast(Celery, existing)
    broker = app.config.get("REDIS_URL")
    if not broker:
        raise ConfigurationError("Celery delivery needs REDIS_URL (the broker).")
    settings = app.extensions["mailproof"].settings
    celery = Celery(app.import_name, broker=broker, set_as_current=False)
    celery.conf.update(
        task_ignore_result=True,
        task_default_queue=settings.celery_queue,
        # A task is acknowledged once done, so a worker killed mid-task leaves it queued.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Publishing happens in the request after the commit: never hang it on a dead broker
        # (one quick retry, then the sweep's turn; refused connections fail in milliseconds).
        broker_connection_timeout=1,
        broker_transport_options={
            "socket_connect_timeout": 1,
            "socket_timeout": 5,
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.2,
        },
        beat_schedule={
            "mailproof-sweep": {"task": SWEEP_TASK, "schedule": settings.delivery_interval}
        },
    )
    celery.conf.update(app.config.get("CELERY") or {})
    _register_tasks(celery, app)
    app.extensions[_EXTENSION_KEY] = celery
    return celery


def enqueue(app: Flask, ids: t.Sequence[int]) -> None:
    """Queue delivery tasks for ``ids`` after a commit; on a broker failure, log and go on.

    The mail is safe in the outbox either way: the sweep queues what was never queued.
    """
    if not ids:
        return
    celery = make_celery(app)
    try:
        for batch in _batches(ids, app.extensions["mailproof"].settings.delivery_batch_size):
            celery.send_task(DELIVER_TASK, args=[batch], retry=False)
    except Exception:  # Any broker error: the commit stands, the sweep catches up.
        log.warning("could not queue delivery of %d mail(s); the sweep will", len(ids))


def _batches(ids: t.Iterable[int], size: int) -> t.Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _register_tasks(celery: Celery, app: Flask) -> None:
    def deliver(ids: list[int]) -> int:
        """Deliver those of ``ids`` still due; return how many were handled."""
        with app.app_context():
            try:
                return deliver_batch(worker_name(), only=ids).handled
            finally:
                current_state().db.session.remove()

    def sweep() -> int:
        """Queue every message due for longer than one interval; return how many."""
        with app.app_context():
            state = current_state()
            try:
                ids = due_ids(
                    state.db.session(),
                    state.models.outbox,
                    limit=_SWEEP_LIMIT,
                    grace=state.settings.delivery_interval,
                )
            finally:
                state.db.session.remove()
        for batch in _batches(ids, state.settings.delivery_batch_size):
            celery.send_task(DELIVER_TASK, args=[batch])
        return len(ids)

    def forget_inherited_connections(**kwargs: t.Any) -> None:
        # A forked pool process must not share its parent's database sockets.
        with app.app_context():
            current_state().db.engine.dispose(close=False)

    celery.task(name=DELIVER_TASK)(deliver)
    celery.task(name=SWEEP_TASK)(sweep)
    worker_process_init.connect(forget_inherited_connections, weak=False)
