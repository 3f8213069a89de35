"""Keep a live worker's claims from expiring while it sends: renew them in the background.

A claim lasts ``MAILPROOF_DELIVERY_LEASE`` seconds so that a dead worker's mail is taken over
soon. A live worker with a long batch (a slow server, many messages) must not lose its claims
half-way, or another worker would send the rest a second time: a :class:`LeaseKeeper` renews
them every third of the lease until each message is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import typing as t

from sqlalchemy import update

from ..clock import utcnow
from ..models import OutboxStatus

if t.TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.engine import Engine

    from ..models import OutboxMixin

log = logging.getLogger("flask_mailproof.delivery")


class LeaseKeeper:
    """Renew ``worker``'s claims on the ids it holds, every third of ``lease``, until closed.

    Used as a context manager around the sending. Ids are added once claimed and released once
    recorded; renewal names them by primary key, so it locks those rows only (a scan by
    ``claimed_by`` would lock every row it passed on MariaDB, sign-ups' new rows among them).
    """

    def __init__(
        self, engine: Engine, model: type[OutboxMixin], *, worker: str, lease: float
    ) -> None:
        self._engine = engine
        self._model = model
        self._worker = worker
        self._lease = lease
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, ids: t.Iterable[int]) -> None:
        """Renew these claims from now on."""
        with self._lock:
            self._held.update(ids)

    def release(self, message_id: int) -> None:
        """Stop renewing this claim (its outcome is recorded)."""
        with self._lock:
            self._held.discard(message_id)

    def __enter__(self) -> LeaseKeeper:
        self._thread = threading.Thread(target=self._run, name="mailproof-leases", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._closed.wait(self._lease / 3):
            try:
                self.renew()
            except Exception:  # The database may be away for a moment; try again next time.
                log.exception("could not renew the claims of %s", self._worker)

    def renew(self) -> int:
        """Push the held claims' expiry one lease from now; return how many were renewed."""
        with self._lock:
            ids = sorted(self._held)
        if not ids:
            return 0
        model = self._model
        with self._engine.begin() as connection:
            result = connection.execute(
                update(model)
                .where(
                    model.id.in_(ids),
                    model.claimed_by == self._worker,
                    model.status == OutboxStatus.CLAIMED,
                )
                .values(claimed_until=utcnow() + dt.timedelta(seconds=self._lease))
            )
        return int(result.rowcount)
