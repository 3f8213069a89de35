"""Run the benchmarks: ``make bench`` or ``python -m bench.harness --help``.

Serves the demo under gunicorn on 127.0.0.1 against fresh databases, sends its mail to a local
SMTP sink, drives it with a bounded load generator, and measures a bare one-INSERT Flask route
the same way, so every figure can be read as a ratio. Prints a markdown table and writes JSON
to ``bench/results/`` (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.metadata
import json
import os
import platform
import tempfile
import time
import typing as t
from pathlib import Path

from . import burst, capacity, delivery, growth, memory, recovery, scenarios
from .run import Options, Row, Run

RESULTS = Path(__file__).resolve().parent / "results"

#: Scenario name -> function, in the order they run (the baseline and the limit come first).
SCENARIOS: dict[str, t.Callable[[Run], None]] = {
    "baseline": scenarios.baseline,
    "hash": scenarios.hash_limit,
    "signup": scenarios.signup,
    "click": scenarios.click,
    "e2e": scenarios.end_to_end,
    "delivery": delivery.delivery,
    "capacity": capacity.capacity,
    "burst": burst.burst,
    "recovery": recovery.recovery,
    "growth": growth.growth,
    "memory": memory.memory,
}
#: What some scenarios read from earlier ones.
NEEDS = {
    "signup": {"hash"},
    "click": {"baseline", "hash"},
    "e2e": {"hash"},
    "growth": {"hash"},
    "memory": set(),
}

QUICK = {
    "baseline_requests": 300,
    "signups": 60,
    "inline_signups": 12,
    "clicks": 300,
    "e2e_users": 20,
    "delivery_messages": 100,
    "burst_signups": 60,
    "growth_small": 1000,
    "growth_large": 20000,
    "growth_samples": 100,
}

PACKAGES = (
    "Flask",
    "Werkzeug",
    "SQLAlchemy",
    "Flask-SQLAlchemy",
    "Flask-WTF",
    "Flask-Login",
    "argon2-cffi",
    "argon2-cffi-bindings",
    "itsdangerous",
    "zxcvbn",
    "email-validator",
    "gunicorn",
    "psycopg",
    "aiosmtpd",
    "aiosmtplib",
)


def parse_options(argv: list[str] | None = None) -> tuple[Options, list[str], Path | None]:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(
        prog="python -m bench.harness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--database-url",
        help="e.g. postgresql+psycopg://postgres@127.0.0.1/mp_bench; its "
        "tables are dropped and recreated. Default: fresh SQLite files in a temporary directory",
    )
    add("--workers", type=int, default=cores, help="gunicorn sync workers (default: cores)")
    add("--concurrency", type=int, default=8, help="client threads (default: 8)")
    add("--time-limit", type=float, default=60.0, help="seconds any one load phase may run")
    add("--smtp-delay", type=float, default=1.0, help="seconds the slow SMTP server holds mail")
    add("--baseline-requests", type=int, default=1500)
    add("--signups", type=int, default=300, help="sign-ups per SMTP setting")
    add(
        "--inline-signups",
        type=int,
        default=48,
        help="sign-ups sending their mail in the request (each waits --smtp-delay)",
    )
    add("--clicks", type=int, default=1500)
    add("--e2e-users", type=int, default=100)
    add("--delivery-messages", type=int, default=500)
    add(
        "--burst-signups",
        type=int,
        default=200,
        help="sign-ups at full speed whose mail the slow SMTP server must accept (scenario burst)",
    )
    add("--growth-small", type=int, default=1000)
    add("--growth-large", type=int, default=1_000_000)
    add("--growth-samples", type=int, default=400, help="clicks (and reset requests) per size")
    add("--warmup", type=int, default=20, help="requests before each measured phase")
    add("--quick", action="store_true", help="small counts, for trying the harness out")
    add(
        "--only",
        default=",".join(SCENARIOS),
        help="comma-separated scenarios to run: " + ", ".join(SCENARIOS),
    )
    add("--output", type=Path, help="JSON file (default: bench/results/<time>.json)")
    args = parser.parse_args(argv)
    values = {field.name: getattr(args, field.name) for field in dataclasses.fields(Options)}
    if args.quick:
        defaults = {name: parser.get_default(name) for name in QUICK}
        values.update({k: v for k, v in QUICK.items() if values[k] == defaults[k]})
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    for name in list(chosen):
        chosen += [need for need in NEEDS.get(name, ()) if need not in chosen]
    return Options(**values), [name for name in SCENARIOS if name in chosen], args.output


def machine() -> dict[str, t.Any]:
    """Describe the machine the run is on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kib = 0
    return {
        "cpu": model or platform.processor(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def table(rows: list[Row]) -> str:
    """Return the rows as a markdown table."""
    lines = [
        "| scenario | figure | value | ratio | goal | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    marks = {True: "yes", False: "**no**", None: ""}
    for row in rows:
        lines.append(
            f"| {row.scenario} | {row.figure} | {row.value} | {row.ratio} | {row.goal} "
            f"| {marks[row.met]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    options, chosen, output = parse_options(argv)
    started = time.perf_counter()
    when = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="mailproof-bench-") as workdir:
        run = Run(options, Path(workdir))
        run.log(
            f"scenarios: {', '.join(chosen)}; database: {run.database.dialect}; "
            f"{options.workers} workers, concurrency {options.concurrency}"
        )
        for name in chosen:
            run.log(f"{name}...")
            SCENARIOS[name](run)
    elapsed = time.perf_counter() - started
    report = {
        "date": when.isoformat(timespec="seconds"),
        "duration_s": round(elapsed, 1),
        "machine": machine(),
        "versions": versions(),
        "database": run.database.server_version(),
        "options": dataclasses.asdict(options),
        "scenarios": chosen,
        "results": run.data,
        "rows": [dataclasses.asdict(row) for row in run.rows],
    }
    if output is None:
        RESULTS.mkdir(exist_ok=True)
        output = RESULTS / f"{when.strftime('%Y%m%dT%H%M%SZ')}-{run.database.dialect}.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(
        f"Run of {report['date']} on {report['machine']['cpu']} "
        f"({report['machine']['cores_usable']} cores), {run.database.dialect}, "
        f"{options.workers} workers, concurrency {options.concurrency}; took {elapsed:.0f} s."
    )
    print()
    print(table(run.rows))
    print()
    print(f"JSON: {output}")


if __name__ == "__main__":
    main()
