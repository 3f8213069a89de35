"""What the scenarios share: the run's options and state, deployments, and table rows."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import secrets
import time
import typing as t
from pathlib import Path

from flask import Flask

from demo.models import db

from .deploy import (
    SERVED_DEMO_SETTINGS,
    Database,
    Gunicorn,
    bulk_load_users,
    demo_app,
    reset_schema,
    settle_database,
)
from .load import Client, LoadResult, Reply, cpu_by_process, cpu_since, run_load
from .smtp_sink import SmtpSink, free_port

#: Workers' CPU time, plus the database server's backends' when it runs here (PostgreSQL).
SERVER_CPU = "server CPU per request"


@dataclasses.dataclass
class Options:
    """What a run measures and how hard it pushes."""

    database_url: str | None
    workers: int
    concurrency: int
    time_limit: float
    smtp_delay: float
    baseline_requests: int
    signups: int
    inline_signups: int
    clicks: int
    e2e_users: int
    delivery_messages: int
    burst_signups: int
    growth_small: int
    growth_large: int
    growth_samples: int
    warmup: int


@dataclasses.dataclass
class Row:
    """One line of the results table."""

    scenario: str
    figure: str
    value: str
    ratio: str = ""
    goal: str = ""
    met: bool | None = None


@dataclasses.dataclass
class Deployment:
    """A served demo with its SMTP sink and in-process app."""

    port: int
    app: Flask
    sink: SmtpSink
    server: Gunicorn


class Run:
    """State shared by the scenarios of one run: options, work directory, results."""

    def __init__(self, options: Options, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.database = Database(options.database_url, workdir)
        self.secret_key = "bench-" + secrets.token_hex(32)
        self.rows: list[Row] = []
        self.data: dict[str, t.Any] = {}
        #: Deployment name -> its tier's memory when it was stopped (bench.proc_memory).
        self.memory: dict[str, dict[str, t.Any]] = {}
        self.password_hash = ""
        #: The baseline's run, which the other latencies are read against.
        self.baseline: LoadResult | None = None

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    @contextlib.contextmanager
    def demo(
        self,
        name: str,
        *,
        smtp_delay: float = 0.0,
        users: int = 0,
        delivery: str = "thread",
        separate: bool = False,
        app_spec: str = "demo:create_app()",
        settings: dict[str, str] | None = None,
    ) -> t.Iterator[Deployment]:
        """Serve the demo on a fresh database with ``users`` bulk-loaded, mail to a sink.

        ``separate`` gives it a database of its own even when one was given (a schema), so
        that another deployment can be served beside it. ``app_spec`` serves a variant of the
        demo (``bench.tutorial_app``) in its place. ``settings`` adds to its environment.
        """
        port = free_port()
        url = self.database.fresh_url(name, separate=separate)
        app = demo_app(url, self.secret_key, f"http://127.0.0.1:{port}")
        reset_schema(app)
        if users:
            seconds = bulk_load_users(app, 1, users, self.password_hash)
            settled = settle_database(app)
            self.log(f"{name}: {users} users loaded in {seconds:.1f}s, settled in {settled:.1f}s")
            self.data.setdefault("bulk_loads", {})[name] = {
                "users": users,
                "load_s": round(seconds, 2),
                "settle_s": round(settled, 2),
            }
        sink = SmtpSink(smtp_delay, self.workdir / f"{name}-mail.jsonl")
        env = {
            **SERVED_DEMO_SETTINGS,
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": url,
            "MAILPROOF_BASE_URL": f"http://127.0.0.1:{port}",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(sink.port),
            "MAILPROOF_DELIVERY": delivery,
            **(settings or {}),
        }
        server = Gunicorn(
            app_spec,
            port=port,
            workers=self.options.workers,
            env=env,
            log_path=self.workdir / f"{name}-gunicorn.log",
            ready_path="/register",
        )
        try:
            server.start()
            yield Deployment(port, app, sink, server)
        finally:
            self.memory[name] = server.memory()
            server.stop()
            sink.stop()
            with app.app_context():
                db.engine.dispose()
            if separate:
                self.database.drop_separate(name)

    def load(
        self,
        server: Gunicorn,
        tasks: t.Sequence[t.Any],
        action: t.Callable[[Client, t.Any], Reply],
        *,
        expect: t.Container[int],
        setup: t.Callable[[Client], None] | None = None,
        concurrency: int | None = None,
        warmup: int | None = None,
    ) -> LoadResult:
        """Warm up on the first ``warmup`` tasks, then measure the rest, with CPU times."""
        load = functools.partial(
            run_load,
            server.port,
            action=action,
            expect=expect,
            concurrency=concurrency or self.options.concurrency,
            time_limit=self.options.time_limit,
            setup=setup,
        )
        if warmup is None:
            warmup = min(self.options.warmup, len(tasks) // 4)
        if warmup:
            load(tasks[:warmup])
        workers = server.worker_pids()
        server_before = cpu_by_process([*workers, *self.database.backend_pids()])
        client_before = time.process_time()
        result = load(tasks[warmup:])
        server_after = cpu_by_process([*workers, *self.database.backend_pids()])
        result.server_cpu = cpu_since(server_before, server_after)
        result.client_cpu = time.process_time() - client_before
        return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def latency_rows(
    scenario: str, result: LoadResult, reference: LoadResult | float | None = None, what: str = ""
) -> list[Row]:
    """Return the latency and completion rows; latency as a multiple of ``reference``.

    ``reference`` is the baseline's run (percentile by percentile) or a time in seconds.
    """
    percentiles = (50, 95, 99)
    values = [result.percentile(p) for p in percentiles]
    if reference is None:
        ratio = "1.00"
    else:
        references = [
            reference if isinstance(reference, float) else reference.percentile(p)
            for p in percentiles
        ]
        ratio = " / ".join(f"{v / r:.1f}" for v, r in zip(values, references, strict=True))
        ratio += f" {what}"
    attempted = result.completed + result.errors
    return [
        Row(scenario, "latency p50 / p95 / p99", " / ".join(ms(v) for v in values), ratio),
        Row(
            scenario,
            "completed / errors",
            f"{result.completed} / {result.errors}",
            f"{result.completed / attempted:.2f} completed" if attempted else "",
        ),
    ]


def cpu_row(
    scenario: str,
    result: LoadResult,
    reference_ms: float | None = None,
    what: str = "",
    goal: float | None = None,
) -> Row:
    """Return the worker CPU per request, as a share of a reference cost when one is given.

    The share reads like the throughput ratio would on a machine whose cores the workers had
    to themselves: on a shared machine it is the steadier of the two figures.
    """
    cpu = result.cpu_per_request()
    if cpu is None:
        return Row(scenario, SERVER_CPU, "not measured")
    value = ms(cpu)
    if reference_ms is None:
        return Row(scenario, SERVER_CPU, value, "1.00")
    share = reference_ms / (cpu * 1000)
    return Row(
        scenario,
        SERVER_CPU,
        value,
        f"{share:.2f} {what}",
        f"≥ {goal:.2f}" if goal is not None else "",
        share >= goal if goal is not None else None,
    )


def cost_row(
    scenario: str,
    result: LoadResult,
    reference_ms: float,
    what: str,
    at_most: float | None = None,
    or_at_most_ms: float | None = None,
    figure: str = SERVER_CPU,
) -> Row:
    """Return the worker CPU per request as a multiple of a reference cost (lower is better).

    The goal is ``at_most`` times the reference, or else an absolute ``or_at_most_ms``:
    whichever the machine allows, as the goal is stated.
    """
    cpu = result.cpu_per_request()
    if cpu is None:
        return Row(scenario, figure, "not measured")
    multiple = cpu * 1000 / reference_ms
    goals = [f"≤ {at_most:.2f} times"] if at_most is not None else []
    goals += [f"≤ {or_at_most_ms:g} ms"] if or_at_most_ms is not None else []
    met = None
    if goals:
        met = (at_most is not None and multiple <= at_most) or (
            or_at_most_ms is not None and cpu * 1000 <= or_at_most_ms
        )
    return Row(scenario, figure, ms(cpu), f"{multiple:.2f} times {what}", " or ".join(goals), met)


def comparison_rows(
    label: str, result: LoadResult, reference: LoadResult, with_goal: bool
) -> list[Row]:
    """Return throughput and p99 of ``result`` as ratios to ``reference``'s."""
    rps_ratio = result.rps / reference.rps if reference.rps else 0.0
    p99_ratio = result.percentile(99) / reference.percentile(99)
    return [
        Row(
            label,
            "throughput",
            f"{result.rps:.1f} vs {reference.rps:.1f}/s",
            f"{rps_ratio:.2f}",
            "≥ 0.90" if with_goal else "",
            rps_ratio >= 0.9 if with_goal else None,
        ),
        Row(
            label,
            "p99",
            f"{ms(result.percentile(99))} vs {ms(reference.percentile(99))}",
            f"{p99_ratio:.2f}",
            "≤ 1.10" if with_goal else "",
            p99_ratio <= 1.1 if with_goal else None,
        ),
    ]
