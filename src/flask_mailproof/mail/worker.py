"""Run delivery: the embedded thread in each web process, and the drain loop everyone shares."""

from __future__ import annotations

import logging
import os
import threading
import typing as t

from flask import after_this_request, g, has_request_context

from ..state import current_state
from .delivery import DeliveryReport, claimant, deliver_pending, worker_name
from .senders import SenderPool

if t.TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response


log = logging.getLogger("flask_mailproof.delivery")

#: Set on ``g`` once a request has asked for a delivery run after its response.
_WAKE_PENDING = "_mailproof_wake_pending"


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
    """Deliver until nothing is due, or the server refuses a whole round; return the totals.

    Up to ``MAILPROOF_DELIVERY_CONCURRENCY`` messages are in flight at once, each sender on a
    connection of its own (see :class:`~.senders.SenderPool`).

    :param progress: called with each message's outcome, one call at a time.
    """
    state = current_state()
    pool = SenderPool(
        state.app,
        worker=claimant(worker),
        concurrency=state.settings.delivery_concurrency,
        progress=progress,
    )
    try:
        return pool.run()
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

    def wake_after_response(self, ids: t.Collection[int] = ()) -> None:
        """Ask for a delivery run once the current response is sent (now outside a request).

        A run woken mid-request competes with it for the GIL: a request that wrote mail
        (a known address) would answer measurably slower than one that wrote a decoy (an
        unknown one). Waiting for the response to be sent keeps the timing alike.
        """
        if not has_request_context():
            self.wake(ids)
            return
        if not g.get(_WAKE_PENDING):
            setattr(g, _WAKE_PENDING, True)
            after_this_request(self._wake_when_closed)

    def _wake_when_closed(self, response: Response) -> Response:
        response.call_on_close(self.wake)
        return response

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
                    # Without the tables a sweep could only fail; SchemaCheck says so once.
                    if current_state().schema.tables_exist():
                        drain(worker)
            except Exception:  # A bad run must not kill the thread; the next one retries.
                log.exception("delivery run failed")
