"""Scenario 6: what the worker tier costs in memory, against the tutorial app's tier.

Three deployments are served one after the other on fresh databases with ``--workers`` sync
workers each, and given the same light traffic (sign-ups, then each mailed link opened and its
button pressed, so every worker has hashed, rendered pages and mail, and confirmed):

- the tutorial app (``bench.tutorial_app``: the demo sending each mail inside the request, as
  tutorials do), served as tutorials serve it, without ``preload_app``: the reference;
- the demo without ``preload_app`` (each worker imports and builds the app after the fork, as
  the demo was served before issue 18);
- the demo as ``gunicorn.conf.py`` serves it.

Then each process's USS, PSS and peak RSS are read (:mod:`bench.proc_memory`). Load does not
distort these figures the way it does CPU timings. Every other deployment of the run is listed
too, with the memory it had when it was stopped.
"""

from __future__ import annotations

import time
import typing as t

from .run import Row, Run
from .scenarios import confirmation_links, fetch_csrf, open_and_click, post_signup, signup_tasks

#: Unique memory per worker the issue asks for, in MiB.
USS_GOAL_MIB = 60.0
#: Sign-ups per worker in each memory deployment: enough for every worker to serve some.
SIGN_UPS_PER_WORKER = 4

#: key: (label, app served, MAILPROOF_DELIVERY, gunicorn settings in its environment)
VARIANTS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "tutorial": (
        "tutorial app, no preload",
        "bench.tutorial_app:create_app()",
        "external",
        {"GUNICORN_PRELOAD": "false"},
    ),
    "demo-no-preload": (
        "demo, no preload",
        "demo:create_app()",
        "thread",
        {"GUNICORN_PRELOAD": "false"},
    ),
    "demo": ("demo, gunicorn.conf.py", "demo:create_app()", "thread", {}),
}


def memory(run: Run) -> None:
    """Serve each variant, exercise it, and compare its tier with the tutorial app's."""
    tiers = {key: _measure(run, key) for key in VARIANTS}
    reference = tier_pss(tiers["tutorial"])
    run.data["memory"] = {"variants": tiers, "deployments": run.memory}
    for key, tier in tiers.items():
        label = f"6. memory: {VARIANTS[key][0]}"
        run.rows += variant_rows(label, tier, tiers["tutorial"], judged=key == "demo")
        run.rows.append(
            Row(
                label,
                f"tier PSS (master + {len(tier['workers'])} workers)",
                f"{tier_pss(tier):.0f} MiB",
                f"{tier_pss(tier) / reference:.2f} of the tutorial's",
                "≤ 1.00" if key == "demo" else "",
                tier_pss(tier) <= reference if key == "demo" else None,
            )
        )
    for name, tier in run.memory.items():
        if name.startswith("memory-") or not tier["workers"]:
            continue
        run.rows.append(
            Row(
                "6. memory, other deployments",
                f"{name}: per worker, max peak RSS / USS / PSS; tier PSS",
                f"{_most(tier, 'peak_rss'):.0f} / {_most(tier, 'uss'):.0f} / "
                f"{_most(tier, 'pss'):.0f} MiB; {tier_pss(tier):.0f} MiB",
            )
        )


def _measure(run: Run, key: str) -> dict[str, t.Any]:
    _label, app_spec, delivery, settings = VARIANTS[key]
    name = f"memory-{key}"
    workers = run.options.workers
    with run.demo(name, delivery=delivery, app_spec=app_spec, settings=settings) as deployment:
        count = SIGN_UPS_PER_WORKER * workers
        # Two clients per worker: each worker takes requests while the other hashes.
        clients = 2 * workers
        tasks = signup_tasks(f"{key}-", count)
        signups = run.load(
            deployment.server,
            tasks,
            post_signup,
            expect={302},
            setup=fetch_csrf,
            concurrency=clients,
            warmup=0,
        )
        deployment.sink.wait_for(count, timeout=run.options.time_limit)
        links = list(confirmation_links(deployment.sink.messages()).values())
        clicks = run.load(
            deployment.server, links, open_and_click, expect={302}, concurrency=clients, warmup=0
        )
        # Let the delivery threads finish their sweep before the pages are counted.
        time.sleep(1.0)
    run.log(
        f"{name}: {signups.completed} sign-ups, {clicks.completed} clicks, "
        f"{signups.errors + clicks.errors} errors"
    )
    return run.memory[name]


def variant_rows(
    label: str, tier: dict[str, t.Any], reference: dict[str, t.Any], *, judged: bool
) -> list[Row]:
    """Return the per-worker figures of ``tier``, each against ``reference``'s."""
    rows = []
    for field, figure in (("uss", "USS"), ("pss", "PSS"), ("peak_rss", "peak RSS")):
        value, base = _most(tier, field), _most(reference, field)
        goal = judged and field == "uss"
        rows.append(
            Row(
                label,
                f"{figure} per worker (the largest)",
                f"{value:.0f} MiB",
                f"{value / base:.2f} of the tutorial's" if base else "",
                f"≤ {USS_GOAL_MIB:.0f} MiB" if goal else "",
                value <= USS_GOAL_MIB if goal else None,
            )
        )
    master = tier["master"] or {}
    rows.append(
        Row(
            label,
            "master: PSS / USS",
            f"{master.get('pss', 0):.0f} / {master.get('uss', 0):.0f} MiB",
        )
    )
    return rows


def tier_pss(tier: dict[str, t.Any]) -> float:
    """Return what a tier costs the machine: the PSS of its master and workers added up."""
    master = tier["master"]["pss"] if tier["master"] else 0.0
    return float(master + sum(worker["pss"] for worker in tier["workers"].values()))


def _most(tier: dict[str, t.Any], field: str) -> float:
    return max((float(worker[field]) for worker in tier["workers"].values()), default=0.0)
