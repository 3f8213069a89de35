"""The scenarios of a benchmark run; each returns table rows and a dict for the JSON file."""

from __future__ import annotations

import contextlib
import dataclasses
import email
import email.policy
import os
import random
import re
import secrets
import smtplib
import time
import types
import typing as t
from pathlib import Path

from flask import Flask
from sqlalchemy import update

from demo.models import db, models
from flask_mailproof.clock import utcnow
from flask_mailproof.mail.delivery import deliver_pending
from flask_mailproof.state import current_state

from .baseline_app import create_app as create_baseline
from .baseline_app import db as baseline_db
from .deploy import (
    SERVED_DEMO_SETTINGS,
    Database,
    Gunicorn,
    bulk_address,
    bulk_load_users,
    confirm_tokens,
    count_confirmed,
    demo_app,
    pick_port,
    settle_database,
)
from .load import Client, LoadResult, Reply, cpu_by_process, cpu_since, run_load
from .smtp_sink import SmtpSink

#: Workers' CPU time, plus the database server's backends' when it runs here (PostgreSQL).
SERVER_CPU = "server CPU per request"

_CONFIRM_LINK = re.compile(r"https?://[^\s<>\"']+/confirm/[^\s<>\"']+")


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
    clicks: int
    e2e_users: int
    delivery_messages: int
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
    """A served demo (or baseline) with its SMTP sink and in-process app."""

    port: int
    app: Flask
    sink: SmtpSink | None
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
        self.memory: dict[str, dict[str, float]] = {}
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
    ) -> t.Iterator[Deployment]:
        """Serve the demo on a fresh database with ``users`` bulk-loaded, mail to a sink.

        ``separate`` gives it a database of its own even when one was given (a schema), so
        that another deployment can be served beside it.
        """
        port = pick_port()
        url = self.database.fresh_url(name, separate=separate)
        app = demo_app(url, self.secret_key, f"http://127.0.0.1:{port}")
        with app.app_context():
            db.drop_all()
            db.create_all()
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
        }
        server = Gunicorn(
            "demo:create_app()",
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
            self.memory[name] = server.peak_rss_mb()
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
        port = server.port
        concurrency = concurrency or self.options.concurrency
        if warmup is None:
            warmup = min(self.options.warmup, len(tasks) // 4)
        if warmup:
            run_load(
                port,
                tasks[:warmup],
                action,
                expect=expect,
                concurrency=concurrency,
                time_limit=self.options.time_limit,
                setup=setup,
            )
        workers = server.worker_pids()
        server_before = cpu_by_process([*workers, *self.database.backend_pids()])
        client_before = time.process_time()
        result = run_load(
            port,
            tasks[warmup:],
            action,
            expect=expect,
            concurrency=concurrency,
            time_limit=self.options.time_limit,
            setup=setup,
        )
        server_after = cpu_by_process([*workers, *self.database.backend_pids()])
        result.server_cpu = cpu_since(server_before, server_after)
        result.client_cpu = time.process_time() - client_before
        return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _latency_rows(
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
        Row(scenario, "latency p50 / p95 / p99", " / ".join(_ms(v) for v in values), ratio),
        Row(
            scenario,
            "completed / errors",
            f"{result.completed} / {result.errors}",
            f"{result.completed / attempted:.2f} completed" if attempted else "",
        ),
    ]


def _cpu_row(
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
    value = _ms(cpu)
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


def _csrf_setup(client: Client) -> None:
    client.fetch_csrf("/register")


def _signup(client: Client, task: tuple[str, str]) -> Reply:
    address, password = task
    return client.post_form(
        "/register", {"email": address, "password": password, "password_confirm": password}
    )


def _click(client: Client, token: str) -> Reply:
    return client.post_form(f"/confirm/{token}")


def signup_tasks(prefix: str, count: int) -> list[tuple[str, str]]:
    """Return ``count`` new addresses, each with its own strong random password."""
    return [(f"{prefix}{i}@bench.example", secrets.token_urlsafe(18)) for i in range(count)]


# --- the baseline and the hash-bound limit ---------------------------------------------------


def baseline(run: Run) -> None:
    """Measure the bare one-INSERT route under the same gunicorn settings."""
    url = run.database.fresh_url("baseline")
    app = create_baseline(url)
    with app.app_context():
        baseline_db.drop_all()
        baseline_db.create_all()
    port = pick_port()
    server = Gunicorn(
        "bench.baseline_app:create_app()",
        port=port,
        workers=run.options.workers,
        env={"DATABASE_URL": url},
        log_path=run.workdir / "baseline-gunicorn.log",
    )
    server.start()
    try:
        result = run.load(
            server,
            range(run.options.baseline_requests + run.options.warmup),  # type: ignore[arg-type]
            lambda client, _: client.request("POST", "/insert"),
            expect={200},
        )
    finally:
        run.memory["baseline"] = server.peak_rss_mb()
        server.stop()
        with app.app_context():
            baseline_db.engine.dispose()
    run.data["baseline"] = result.summary()
    run.baseline = result
    run.rows += [
        Row("baseline: one INSERT", "requests/s", f"{result.rps:.1f}", "1.00"),
        _cpu_row("baseline: one INSERT", result),
        *_latency_rows("baseline: one INSERT", result),
    ]


def hash_limit(run: Run) -> None:
    """Measure one password hash's CPU time at the demo's argon2 parameters, in-process."""
    app = demo_app(run.database.fresh_url("hash"), run.secret_key, "http://127.0.0.1")
    samples = 20
    with app.app_context():
        passwords = current_state().passwords
        settings = current_state().settings
        run.password_hash = passwords.hash("bench: the password every bulk user has")
        started = time.process_time()
        for i in range(samples):
            passwords.hash(f"bench password number {i:04d}, long enough")
        cpu = (time.process_time() - started) / samples
    cores = len(os.sched_getaffinity(0))
    limit = cores / cpu
    run.data["hash"] = {
        "cpu_ms": round(cpu * 1000, 2),
        "cores": cores,
        "limit_rps": round(limit, 2),
        "argon2": {
            "time_cost": settings.argon2_time_cost,
            "memory_cost_kib": settings.argon2_memory_cost,
            "parallelism": settings.argon2_parallelism,
        },
    }
    run.rows.append(
        Row(
            "limit: password hash",
            "CPU per argon2id hash; cores ÷ it",
            f"{_ms(cpu)}; {limit:.1f}/s",
        )
    )


# --- 1. sign-up --------------------------------------------------------------------------------


def signup(run: Run) -> None:
    """Sign-up throughput and latency with the SMTP server holding mail 0 s and N s.

    A third deployment sends no mail from its web workers (``MAILPROOF_DELIVERY=external``):
    what sign-up costs when delivery runs elsewhere.
    """
    limit = run.data["hash"]["limit_rps"]
    results: dict[str, LoadResult] = {}
    variants = (
        ("fast", 0.0, "thread", "1. sign-up, SMTP holds 0 s"),
        (
            "slow",
            run.options.smtp_delay,
            "thread",
            f"1. sign-up, SMTP holds {run.options.smtp_delay:g} s",
        ),
        ("none", 0.0, "external", "1. sign-up, no delivery in the web workers"),
    )
    for key, delay, delivery, label in variants:
        name = f"signup-smtp-{delay:g}s" if delivery == "thread" else "signup-no-delivery"
        with run.demo(name, smtp_delay=delay, delivery=delivery) as deployment:
            tasks = signup_tasks(f"{key}-", run.options.signups + run.options.warmup)
            result = run.load(deployment.server, tasks, _signup, expect={302}, setup=_csrf_setup)
            assert deployment.sink is not None
            mails = deployment.sink.count()
        results[key] = result
        run.data[name] = {**result.summary(), "mails_accepted_during_run": mails}
        ratio = result.rps / limit
        run.rows += [
            Row(
                label,
                "sign-ups/s",
                f"{result.rps:.1f}",
                f"{ratio:.2f} of hash limit",
                "≥ 0.90",
                ratio >= 0.9,
            ),
            _cpu_row(label, result, run.data["hash"]["cpu_ms"], "hash share (CPU)", 0.9),
            *_latency_rows(label, result, run.data["hash"]["cpu_ms"] / 1000, "times a hash"),
        ]
        if delivery == "thread":
            run.rows.append(
                Row(
                    label,
                    "mails the SMTP server accepted meanwhile",
                    f"{mails} of {len(tasks)} (warm-up included)",
                    f"{mails / len(tasks):.2f}",
                )
            )
    run.rows += [
        *_comparison_rows("1. sign-up, slow vs fast SMTP", results["slow"], results["fast"], True),
        *_comparison_rows(
            "1. sign-up, delivering (fast SMTP) vs not", results["fast"], results["none"], False
        ),
    ]


def _comparison_rows(
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
            f"{_ms(result.percentile(99))} vs {_ms(reference.percentile(99))}",
            f"{p99_ratio:.2f}",
            "≤ 1.10" if with_goal else "",
            p99_ratio <= 1.1 if with_goal else None,
        ),
    ]


# --- 2. confirmation click ---------------------------------------------------------------------


def click(run: Run) -> None:
    """The POST behind the confirmation button, for bulk-loaded unconfirmed users."""
    count = run.options.clicks + run.options.warmup
    with run.demo("click", users=count) as deployment:
        ids = list(range(1, count + 1))
        random.shuffle(ids)
        tokens = confirm_tokens(deployment.app, ids)
        result = run.load(deployment.server, tokens, _click, expect={302}, setup=_csrf_setup)
        confirmed = count_confirmed(deployment.app)
    baseline_rps = run.data["baseline"]["rps"]
    ratio = result.rps / baseline_rps
    run.data["click"] = {**result.summary(), "confirmed_in_database": confirmed}
    label = "2. confirmation click"
    run.rows += [
        Row(
            label,
            "clicks/s",
            f"{result.rps:.1f}",
            f"{ratio:.2f} of baseline",
            "≥ 0.80",
            ratio >= 0.8,
        ),
        _cpu_row(
            label,
            result,
            run.data["baseline"]["server_cpu_ms_per_request"],
            "of baseline (CPU)",
            0.8,
        ),
        *_latency_rows(label, result, run.baseline, "times baseline"),
    ]


# --- 3. end to end -----------------------------------------------------------------------------


def _open_and_click(client: Client, link: str) -> Reply:
    path = "/" + link.split("/", 3)[3]
    page = client.request("GET", path)
    if page.status != 200:
        return page
    client.csrf_token = None
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.body)
    if match:
        client.csrf_token = match.group(1)
    return client.post_form(path)


def confirmation_links(messages: t.Iterable[dict[str, t.Any]]) -> dict[str, str]:
    """Return each recipient's confirmation link, read from the plain-text part of its mail."""
    links = {}
    for record in messages:
        parsed = email.message_from_string(record["data"], policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""  # type: ignore[union-attr]
        match = _CONFIRM_LINK.search(text)
        if match:
            links[record["to"][0]] = match.group(0)
    return links


def end_to_end(run: Run) -> None:
    """N people sign up, get the mail, open the link and press the button."""
    count = run.options.e2e_users
    with run.demo("end-to-end") as deployment:
        assert deployment.sink is not None
        started = time.perf_counter()
        signups = run_load(
            deployment.port,
            signup_tasks("e2e-", count),
            _signup,
            expect={302},
            concurrency=run.options.concurrency,
            time_limit=run.options.time_limit,
            setup=_csrf_setup,
        )
        signed_up = time.perf_counter()
        arrived = deployment.sink.wait_for(count, timeout=run.options.time_limit)
        delivered = time.perf_counter()
        links = confirmation_links(deployment.sink.messages())
        clicks = run_load(
            deployment.port,
            list(links.values()),
            _open_and_click,
            expect={302},
            concurrency=run.options.concurrency,
            time_limit=run.options.time_limit,
        )
        finished = time.perf_counter()
        confirmed = count_confirmed(deployment.app)
    wall = finished - started
    ideal = count / run.data["hash"]["limit_rps"]
    run.data["end_to_end"] = {
        "users": count,
        "signed_up": signups.completed,
        "mails_arrived": arrived,
        "links_found": len(links),
        "clicked": clicks.completed,
        "confirmed_in_database": confirmed,
        "wall_s": round(wall, 3),
        "signup_phase_s": round(signed_up - started, 3),
        "mail_wait_s": round(delivered - signed_up, 3),
        "click_phase_s": round(finished - delivered, 3),
        "hash_bound_s": round(ideal, 3),
    }
    label = "3. end to end"
    run.rows += [
        Row(
            label, f"{count} users: wall time", f"{wall:.2f} s", f"{ideal / wall:.2f} of hash limit"
        ),
        Row(
            label,
            "phases: sign-up / last mail / clicks",
            f"{signed_up - started:.2f} / {delivered - signed_up:.2f} / "
            f"{finished - delivered:.2f} s",
            " / ".join(
                f"{part / wall:.2f}"
                for part in (signed_up - started, delivered - signed_up, finished - delivered)
            )
            + " of wall",
        ),
        Row(
            label,
            "confirmed in database",
            f"{confirmed} of {count}",
            f"{confirmed / count:.2f}",
            "all",
            confirmed == count,
        ),
    ]


# --- 4. delivery -------------------------------------------------------------------------------


def _drain(app: Flask, batch_size: int) -> int:
    with app.app_context():
        state = current_state()
        settings = dataclasses.replace(state.settings, delivery_batch_size=batch_size)
        sent = 0
        while True:
            report = deliver_pending(db.session(), models.outbox, state.transport, settings)
            if not report.handled:
                return sent
            sent += report.sent


def _requeue_all(app: Flask) -> None:
    with app.app_context():
        db.session.execute(
            update(models.outbox).values(
                status="pending", attempts=0, sent_at=None, next_attempt_at=utcnow()
            )
        )
        db.session.commit()


def delivery(run: Run) -> None:
    """Outbox to SMTP: one connection per batch, one per message, and raw smtplib."""
    count = run.options.delivery_messages
    sink = SmtpSink(0.0, run.workdir / "delivery-mail.jsonl")
    url = run.database.fresh_url("delivery")
    app = demo_app(
        url, run.secret_key, "http://127.0.0.1:5000", MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port
    )
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            outbox = current_state().outbox
            for i in range(count):
                user = types.SimpleNamespace(email=bulk_address(i))
                outbox.queue(
                    user.email,
                    "confirm",
                    {
                        "user": user,
                        "link": f"http://127.0.0.1:5000/confirm/{secrets.token_urlsafe(90)}",
                        "expires_in": "24 hours",
                    },
                )
            db.session.commit()
            raws = [(row.recipient, row.raw) for row in db.session.query(models.outbox)]
        rates: dict[str, float] = {}
        for name, batch in (
            ("one connection per batch of 50", 50),
            ("one connection per message", 1),
        ):
            _requeue_all(app)
            before = sink.count()
            started = time.perf_counter()
            sent = _drain(app, batch)
            sink.wait_for(before + count, timeout=30)
            rates[name] = sent / (time.perf_counter() - started)
        before = sink.count()
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", sink.port) as client:
            for recipient, raw in raws:
                client.sendmail("no-reply@localhost", [recipient], raw.encode("ascii"))
        sink.wait_for(before + count, timeout=30)
        raw_rate = count / (time.perf_counter() - started)
    finally:
        sink.stop()
        with app.app_context():
            db.engine.dispose()
    run.data["delivery"] = {
        "messages": count,
        "raw_smtplib_per_s": round(raw_rate, 1),
        **{name: round(rate, 1) for name, rate in rates.items()},
    }
    label = "4. delivery"
    run.rows.append(
        Row(label, "raw smtplib, one connection (limit)", f"{raw_rate:.0f} msg/s", "1.00")
    )
    for name, rate in rates.items():
        run.rows.append(
            Row(label, f"outbox, {name}", f"{rate:.0f} msg/s", f"{rate / raw_rate:.2f} of raw")
        )


# --- 5. growth ---------------------------------------------------------------------------------


def _reset_request(client: Client, address: str) -> Reply:
    return client.post_form("/reset", {"email": address})


#: Measurement rounds of the growth scenario; the sizes alternate, so drifting load on the
#: machine falls on both alike.
GROWTH_ROUNDS = 4


@dataclasses.dataclass
class _GrowthPlan:
    deployment: Deployment
    tokens: list[str]
    addresses: list[str]


def _growth_plan(deployment: Deployment, size: int, per_kind: int) -> _GrowthPlan:
    ids = random.sample(range(1, size + 1), 2 * per_kind)
    return _GrowthPlan(
        deployment,
        confirm_tokens(deployment.app, ids[:per_kind]),
        [bulk_address(i) for i in ids[per_kind:]],
    )


def growth(run: Run) -> None:
    """The click and the reset request at a small and a large user count, side by side.

    Both databases are loaded and served at once, and the measurement alternates between them
    in rounds, so that the comparison does not depend on which minute each was measured in.
    One client per worker: latency is then service time rather than time queueing behind
    other clients, so the p99 compares lookups rather than the scheduler.
    """
    small, large = run.options.growth_small, run.options.growth_large
    chunk = max(4, run.options.growth_samples // GROWTH_ROUNDS)
    warm = min(run.options.warmup, chunk // 4)
    # Each request needs its own unconfirmed user (half the users click, half ask for a reset).
    while GROWTH_ROUNDS * (chunk + warm) * 2 > small and chunk > 4:
        chunk -= 1
        warm = min(run.options.warmup, chunk // 4)
    per_kind = GROWTH_ROUNDS * (chunk + warm)
    measured: dict[int, dict[str, list[LoadResult]]] = {small: {}, large: {}}
    with (
        run.demo("growth-small", users=small, separate=True) as low,
        run.demo("growth-large", users=large, separate=True) as high,
    ):
        reset_served = Client(low.port).request("GET", "/reset").status != 404
        if not reset_served:
            run.log("growth: /reset answers 404 here; the reset request is skipped")
        plans = {
            small: _growth_plan(low, small, per_kind),
            large: _growth_plan(high, large, per_kind),
        }
        for round_number in range(GROWTH_ROUNDS):
            part = slice(round_number * (chunk + warm), (round_number + 1) * (chunk + warm))
            order = (small, large) if round_number % 2 == 0 else (large, small)
            for size in order:
                plan = plans[size]
                kinds: list[tuple[str, list[str], t.Any, set[int]]] = [
                    ("click", plan.tokens, _click, {302})
                ]
                if reset_served:
                    kinds.append(("reset", plan.addresses, _reset_request, {200, 302, 303}))
                for kind, tasks, action, expect in kinds:
                    result = run.load(
                        plan.deployment.server,
                        tasks[part],
                        action,
                        expect=expect,
                        setup=_csrf_setup,
                        concurrency=run.options.workers,
                        warmup=warm,
                    )
                    measured[size].setdefault(kind, []).append(result)
    merged = {
        size: {kind: LoadResult.merge(parts) for kind, parts in kinds_measured.items()}
        for size, kinds_measured in measured.items()
    }
    run.data["growth"] = {
        "rounds": GROWTH_ROUNDS,
        "reset_route_served": reset_served,
        **{
            f"{kind}_at_{size}": result.summary()
            for size, results in merged.items()
            for kind, result in results.items()
        },
    }
    for kind, title in (("click", "confirmation click"), ("reset", "reset request")):
        label = f"5. growth: {title}"
        if kind not in merged[small]:
            run.rows.append(Row(label, "skipped", "/reset answers 404 in this build"))
            continue
        run.rows += _growth_rows(label, merged[small][kind], merged[large][kind], small, large)


def _growth_rows(
    label: str, low: LoadResult, high: LoadResult, small: int, large: int
) -> list[Row]:
    ratio = high.percentile(99) / low.percentile(99)
    rows = [
        Row(
            label,
            f"p99 at {small:,} / {large:,} users",
            f"{_ms(low.percentile(99))} / {_ms(high.percentile(99))}",
            f"{ratio:.2f}",
            "≤ 1.20",
            ratio <= 1.2,
        ),
        Row(
            label,
            f"p50 at {small:,} / {large:,} users",
            f"{_ms(low.percentile(50))} / {_ms(high.percentile(50))}",
            f"{high.percentile(50) / low.percentile(50):.2f}",
        ),
        Row(
            label,
            f"requests/s at {small:,} / {large:,}",
            f"{low.rps:.1f} / {high.rps:.1f}",
            f"{high.rps / low.rps:.2f}",
        ),
    ]
    low_cpu, high_cpu = low.cpu_per_request(), high.cpu_per_request()
    if low_cpu and high_cpu:
        rows.append(
            Row(
                label,
                f"server CPU per request at {small:,} / {large:,}",
                f"{_ms(low_cpu)} / {_ms(high_cpu)}",
                f"{high_cpu / low_cpu:.2f}",
            )
        )
    return rows


# --- 6. memory ---------------------------------------------------------------------------------


def memory(run: Run) -> None:
    """Peak resident memory per gunicorn worker, for each deployment of the run."""
    base = max(run.memory.get("baseline", {}).values(), default=0.0)
    run.data["memory_peak_rss_mib"] = run.memory
    for name, peaks in run.memory.items():
        if not peaks or name == "baseline":
            continue
        worst = max(peaks.values())
        run.rows.append(
            Row(
                "6. memory",
                f"peak RSS per worker: {name}",
                f"{worst:.0f} MiB",
                f"{worst / base:.2f} of baseline" if base else "",
            )
        )
    if base:
        run.rows.append(
            Row("6. memory", "peak RSS per worker: baseline", f"{base:.0f} MiB", "1.00")
        )
