"""A bounded load generator: threads, one small HTTP client each, loopback only.

Each thread keeps its own cookies (so its own session and CSRF token), takes the next task
from a shared list until the list or the time limit runs out, and times each request from
connect to last byte. gunicorn's sync workers close every connection, so each request opens a
new one, as a browser behind a plain reverse proxy would.
"""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import math
import os
import re
import threading
import time
import typing as t
from pathlib import Path
from urllib.parse import urlencode

#: The hidden field Flask-WTF renders in every form.
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

T = t.TypeVar("T")


@dataclasses.dataclass
class Reply:
    """What a request got back."""

    status: int
    headers: dict[str, str]
    body: str


class Client:
    """One visitor: cookies kept between requests, a CSRF token once a form page was seen."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the load generator only talks to loopback")
        self.host = host
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf_token: str | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        """Send one request on a fresh connection and read the whole reply."""
        headers = {"Connection": "close"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or ():
                self._keep_cookie(header)
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                data.decode("utf-8", "replace"),
            )
        finally:
            connection.close()

    def _keep_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if (
            not value
            or "max-age=0" in attributes.lower()
            or "expires=thu, 01 jan 1970" in (attributes.lower())
        ):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def fetch_csrf(self, path: str) -> str:
        """GET a form page and keep its CSRF token (valid for every form of the session)."""
        reply = self.request("GET", path)
        match = CSRF_FIELD.search(reply.body)
        if reply.status != 200 or match is None:
            raise RuntimeError(f"GET {path} gave {reply.status} and no CSRF token")
        self.csrf_token = match.group(1)
        return self.csrf_token

    def post_form(self, path: str, fields: dict[str, str] | None = None) -> Reply:
        """POST a form with this session's CSRF token."""
        form = dict(fields or {})
        if self.csrf_token is not None:
            form["csrf_token"] = self.csrf_token
        return self.request("POST", path, form)


@dataclasses.dataclass
class LoadResult:
    """Latencies and counts of one bounded run."""

    latencies: list[float]
    errors: int
    statuses: dict[int, int]
    wall: float
    planned: int
    stopped_by_time: bool
    #: CPU seconds the server's worker processes (all their threads) spent during the run.
    server_cpu: float | None = None
    #: CPU seconds this process (the load generator) spent during the run.
    client_cpu: float | None = None

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.completed / self.wall if self.wall > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Return the ``p``-th percentile latency in seconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
        return ordered[rank - 1]

    @classmethod
    def merge(cls, parts: t.Sequence[LoadResult]) -> LoadResult:
        """Return one result made of several runs of the same kind of request."""

        def total(values: t.Iterable[float | None]) -> float | None:
            present = [v for v in values if v is not None]
            return sum(present) if present else None

        statuses: dict[int, int] = {}
        for part in parts:
            for status, count in part.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        return cls(
            latencies=[latency for part in parts for latency in part.latencies],
            errors=sum(part.errors for part in parts),
            statuses=statuses,
            wall=sum(part.wall for part in parts),
            planned=sum(part.planned for part in parts),
            stopped_by_time=any(part.stopped_by_time for part in parts),
            server_cpu=total(part.server_cpu for part in parts),
            client_cpu=total(part.client_cpu for part in parts),
        )

    def cpu_per_request(self) -> float | None:
        """Return the server's CPU seconds per completed request, if measured."""
        if self.server_cpu is None or not self.completed:
            return None
        return self.server_cpu / self.completed

    def summary(self) -> dict[str, t.Any]:
        server = self.cpu_per_request()
        client = self.client_cpu / self.completed if self.client_cpu and self.completed else None
        return {
            "planned": self.planned,
            "completed": self.completed,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "wall_s": round(self.wall, 3),
            "rps": round(self.rps, 2),
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p95_ms": round(self.percentile(95) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "stopped_by_time": self.stopped_by_time,
            "server_cpu_ms_per_request": None if server is None else round(server * 1000, 2),
            "client_cpu_ms_per_request": None if client is None else round(client * 1000, 2),
        }


def cpu_by_process(pids: t.Iterable[int]) -> dict[int, float]:
    """Return the CPU seconds (user + system, every thread) each of the processes ``pids`` used."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """Return the CPU seconds spent between two snapshots (new processes count in full)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def run_load(
    port: int,
    tasks: t.Sequence[T],
    action: t.Callable[[Client, T], Reply],
    *,
    expect: t.Container[int],
    concurrency: int,
    time_limit: float,
    setup: t.Callable[[Client], None] | None = None,
) -> LoadResult:
    """Run ``action`` once per task on ``concurrency`` threads, for at most ``time_limit`` s.

    ``setup`` runs once per thread before the clock starts (to fetch a CSRF token). Only
    replies whose status is in ``expect`` count as completed; the others are errors.
    """
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    next_index = itertools.count()
    clock = {"started": 0.0, "deadline": 0.0}
    stopped = [False]
    failures: list[Exception] = []

    def start_clock() -> None:
        clock["started"] = time.perf_counter()
        clock["deadline"] = clock["started"] + time_limit

    # The clock starts when every thread has done its setup, before any is released.
    ready = threading.Barrier(concurrency + 1, action=start_clock)

    def worker() -> None:
        nonlocal errors
        client = Client(port)
        try:
            if setup is not None:
                setup(client)
        except Exception as exc:  # reported by the main thread
            failures.append(exc)
            ready.abort()
            return
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        while True:
            index = next(next_index)
            if index >= len(tasks):
                return
            if time.perf_counter() > clock["deadline"]:
                stopped[0] = True
                return
            started = time.perf_counter()
            try:
                status = action(client, tasks[index]).status
            except OSError:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status in expect:
                    latencies.append(elapsed)
                else:
                    errors += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        raise RuntimeError(f"load setup failed: {failures[0]!r}") from None
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - clock["started"]
    return LoadResult(latencies, errors, statuses, wall, len(tasks), stopped[0])
