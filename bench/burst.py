"""Scenario 4c: a burst of sign-ups at full speed, and how soon a slow server has every mail.

The demo under gunicorn (``--workers`` sync workers, the embedded delivery thread) signs up
``--burst-signups`` new users as fast as it answers ``--concurrency`` clients, while the SMTP
server holds each message ``--smtp-delay`` seconds. Measured: how long after the last sign-up's
answer the server had accepted the last mail, with ``MAILPROOF_DELIVERY_CONCURRENCY`` 1 (one
session per process, as before concurrent delivery: the baseline), 8 (the default) and 32.
"""

from __future__ import annotations

import math
import time

from .run import Row, Run
from .scenarios import fetch_csrf, post_signup, signup_tasks

#: Sessions per process measured; the first is the baseline.
LEVELS = (1, 8, 32)
#: Seconds after the last sign-up by which every mail must be accepted (issue 16).
GOAL_S = 10.0
#: Seconds the wait for the mail may run beyond what the baseline's sessions need.
SLACK_S = 60.0


def burst(run: Run) -> None:
    """Time from the last sign-up of a burst to the last mail accepted, per concurrency."""
    delay, count, workers = run.options.smtp_delay, run.options.burst_signups, run.options.workers
    label = f"4c. burst of {count} sign-ups, SMTP holds {delay:g} s, {workers} workers"
    measured: dict[int, dict[str, float]] = {}
    for level in LEVELS:
        name = f"burst-concurrency-{level}"
        settings = {"MAILPROOF_DELIVERY_CONCURRENCY": str(level)}
        with run.demo(name, smtp_delay=delay, settings=settings) as deployment:
            tasks = signup_tasks(f"burst{level}-", count)
            result = run.load(
                deployment.server, tasks, post_signup, expect={302}, setup=fetch_csrf, warmup=0
            )
            last_sign_up = time.time()
            during = deployment.sink.count()
            timeout = count * delay / (level * workers) + SLACK_S
            deployment.sink.wait_for(result.completed, timeout=timeout)
            accepted = deployment.sink.messages()
        last_mail = max((message["at"] for message in accepted), default=math.nan)
        measured[level] = {
            "sign_ups": result.completed,
            "sign_ups_per_s": round(result.rps, 1),
            "accepted_during_burst": during,
            "accepted": len(accepted),
            "distinct_recipients": len({tuple(message["to"]) for message in accepted}),
            "last_mail_after_last_sign_up_s": round(last_mail - last_sign_up, 2),
        }
        run.log(f"burst: concurrency {level}: {measured[level]}")
    run.data["burst"] = {"smtp_delay_s": delay, "workers": workers, "levels": measured}
    base = measured[LEVELS[0]]["last_mail_after_last_sign_up_s"]
    for level, figures in measured.items():
        after = figures["last_mail_after_last_sign_up_s"]
        judged = level != LEVELS[0]
        complete = figures["accepted"] >= figures["sign_ups"]
        run.rows += [
            Row(
                label,
                f"concurrency {level}: sign-ups/s; mails accepted during the burst",
                f"{figures['sign_ups_per_s']:.1f}/s; {figures['accepted_during_burst']:.0f} "
                f"of {figures['sign_ups']:.0f}",
            ),
            Row(
                label,
                f"concurrency {level}: last mail accepted after the last sign-up",
                f"{after:.1f} s ({figures['accepted']:.0f} of {figures['sign_ups']:.0f} mails)",
                f"{after / base:.2f} of concurrency {LEVELS[0]}" if base else "",
                f"≤ {GOAL_S:g} s" if judged else "",
                (complete and after <= GOAL_S) if judged else None,
            ),
        ]
