"""Run delivery: the embedded thread in each web process, and the drain loop everyone shares."""

from __future__ import annotations

import functools
import logging
import os
import threading
import typing as t

from ..errors import ConfigurationError
from ..state import current_state
from .delivery import DeliveryReport, deliver_pending, worker_name

if t.TYPE_CHECKING:
    from flask import Flask

    from ..settings import Settings
    from .outbox import Outbox

log = logging.getLogger("flask_mailproof.delivery")


def deliver_batch(worker: str, only: t.Collection[int] | None = None) -> DeliveryReport:
    """Deliver one batch of due messages of the current app (``only`` some ids, if given)."""
    state = current_state()
    return deliver_pending(
        state.db.session(),
        state.models.outbox,
        state.transport,
        state.settings,
        worker=worker,
        attempt_model=state.models.delivery_attempt,
        only=only,
    )


def drain(
    worker: str | None = None, progress: t.Callable[[DeliveryReport], None] | None = None
) -> DeliveryReport:
    """Deliver batches until nothing is due, or a whole batch must wait; return the totals."""
    worker = worker or worker_name()
    total = DeliveryReport()
    state = current_state()
    try:
        while True:
            report = deliver_batch(worker)
            if not report.handled:
                return total
            total.sent += report.sent
            total.retried += report.retried
            total.failed += report.failed
            if progress is not None:
                progress(report)
            if not (report.sent or report.failed):
                # Every message of the batch must wait: the server is down or refusing for
                # now, so stop hammering it; the next run comes after the interval.
                return total
    finally:
        state.db.session.remove()


class DeliveryThread:
    """Drain the outbox right after each commit that wrote mail, and every ``interval`` seconds.

    The thread starts on first use in each process, so it survives gunicorn's fork (threads do
    not) and costs nothing in processes that never send mail. Several processes each running
    one are safe: claims are atomic.
    """

    def __init__(self, app: Flask, interval: float) -> None:
        self._app = app
        self._interval = interval
        self._wakeup = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stopping = False

    def start_once(self) -> None:
        """Start the thread (and so a first run) if this process has none yet."""
        if self._thread is None or self._pid != os.getpid():
            self.wake()

    def wake(self, ids: t.Collection[int] = ()) -> None:
        """Ask for a delivery run now; start the thread if this process has none."""
        self._ensure_started()
        self._wakeup.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread after its current run (which finishes its message in flight)."""
        self._stopping = True
        self._wakeup.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._stopping:
                return
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="mailproof-delivery", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        worker = worker_name()
        while not self._stopping:
            self._wakeup.wait(self._interval)
            self._wakeup.clear()
            if self._stopping:
                return
            try:
                with self._app.app_context():
                    drain(worker)
            except Exception:  # A bad run must not kill the thread; the next one retries.
                log.exception("delivery run failed")


def wire_delivery(app: Flask, settings: Settings, outbox: Outbox) -> DeliveryThread | None:
    """Connect the outbox to the delivery ``MAILPROOF_DELIVERY`` chose; return the thread, if any.

    :raises ConfigurationError: Celery delivery without ``REDIS_URL``.
    """
    if settings.delivery == "thread":
        thread = DeliveryThread(app, settings.delivery_interval)
        outbox.on_commit(thread.wake)
        # Mail left by a process that died goes out when this one first serves a request.
        app.before_request_funcs.setdefault(None, []).append(thread.start_once)
        return thread
    if settings.delivery == "celery":
        if not app.config.get("REDIS_URL"):
            raise ConfigurationError("MAILPROOF_DELIVERY='celery' needs REDIS_URL (the broker).")
        # Celery is an optional dependency: only applications that choose it import it.
        from .. import celery

        outbox.on_commit(functools.partial(celery.enqueue, app))
    return None
