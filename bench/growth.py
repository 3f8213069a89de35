"""Scenario 5: the click and the reset request at a small and a large user count."""

from __future__ import annotations

import dataclasses
import random
import typing as t

from .deploy import bulk_address, confirm_tokens
from .load import Client, LoadResult, Reply
from .run import Deployment, Row, Run, ms
from .scenarios import click_button, fetch_csrf


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


def _growth_plan(
    deployment: Deployment, size: int, per_kind: int, password_hash: str
) -> _GrowthPlan:
    ids = random.sample(range(1, size + 1), 2 * per_kind)
    return _GrowthPlan(
        deployment,
        confirm_tokens(deployment.app, ids[:per_kind], password_hash),
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
            small: _growth_plan(low, small, per_kind, run.password_hash),
            large: _growth_plan(high, large, per_kind, run.password_hash),
        }
        for round_number in range(GROWTH_ROUNDS):
            part = slice(round_number * (chunk + warm), (round_number + 1) * (chunk + warm))
            order = (small, large) if round_number % 2 == 0 else (large, small)
            for size in order:
                plan = plans[size]
                kinds: list[tuple[str, list[str], t.Any, set[int]]] = [
                    ("click", plan.tokens, click_button, {302})
                ]
                if reset_served:
                    kinds.append(("reset", plan.addresses, _reset_request, {200, 302, 303}))
                for kind, tasks, action, expect in kinds:
                    result = run.load(
                        plan.deployment.server,
                        tasks[part],
                        action,
                        expect=expect,
                        setup=fetch_csrf,
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
            f"{ms(low.percentile(99))} / {ms(high.percentile(99))}",
            f"{ratio:.2f}",
            "≤ 1.20",
            ratio <= 1.2,
        ),
        Row(
            label,
            f"p50 at {small:,} / {large:,} users",
            f"{ms(low.percentile(50))} / {ms(high.percentile(50))}",
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
                f"{ms(low_cpu)} / {ms(high_cpu)}",
                f"{high_cpu / low_cpu:.2f}",
            )
        )
    return rows
