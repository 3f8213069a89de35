"""The embedded delivery worker: a thread in each web process that drains the outbox."""

from __future__ import annotations

import logging
import os
import threading
import typing as t

from ..state import current_state
from .delivery import deliver_pending, worker_name

if t.TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("flask_mailproof.delivery")


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

    def start_once(self) -> None:
        """Start the thread (and so a first run) if this process has none yet."""
        if self._thread is None or self._pid != os.getpid():
            self.wake()

    def wake(self) -> None:
        """Ask for a delivery run now; start the thread if this process has none."""
        self._ensure_started()
        self._wakeup.set()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="mailproof-delivery", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        worker = worker_name()
        while True:
            self._wakeup.wait(self._interval)
            self._wakeup.clear()
            try:
                self._drain(worker)
            except Exception:  # A bad run must not kill the thread; the next one retries.
                log.exception("delivery run failed")

    def _drain(self, worker: str) -> None:
        with self._app.app_context():
            state = current_state()
            try:
                while deliver_pending(
                    state.db.session(),
                    state.models.outbox,
                    state.transport,
                    state.settings,
                    worker=worker,
                ).handled:
                    pass
            finally:
                state.db.session.remove()
