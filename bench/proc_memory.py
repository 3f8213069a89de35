"""What each process of a gunicorn tier costs in memory, read from ``/proc`` (Linux only).

Peak RSS alone overstates a tier whose workers share pages with their master (gunicorn's
``preload_app``): every shared page counts in full in every process. So besides the peak
(``VmHWM``), each process gets, from ``/proc/<pid>/smaps_rollup``:

- **USS**, unique set size: its private pages (``Private_Clean + Private_Dirty``), what the
  machine would get back if the process alone ended;
- **PSS**, proportional set size: its private pages plus each shared page divided by the number
  of processes sharing it. The PSS of every process of a tier adds up to what the tier costs.
"""

from __future__ import annotations

import dataclasses
import typing as t
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class ProcessMemory:
    """One process's memory, in MiB."""

    rss: float
    pss: float
    uss: float
    peak_rss: float


def process_memory(pid: int) -> ProcessMemory | None:
    """Return the memory of process ``pid``, or ``None`` if it is gone."""
    try:
        rollup = _kib_fields(Path(f"/proc/{pid}/smaps_rollup").read_text())
        status = _kib_fields(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return None
    return ProcessMemory(
        rss=_mib(rollup["Rss"]),
        pss=_mib(rollup["Pss"]),
        uss=_mib(rollup["Private_Clean"] + rollup["Private_Dirty"]),
        peak_rss=_mib(status["VmHWM"]),
    )


def tier_memory(master: int | None, workers: t.Iterable[int]) -> dict[str, t.Any]:
    """Return the memory of a gunicorn master and its workers, for the run's JSON.

    ``{"master": {...} | None, "workers": {"<pid>": {...}}}``, each entry a
    :class:`ProcessMemory` as a dict.
    """
    found = process_memory(master) if master is not None else None
    return {
        "master": dataclasses.asdict(found) if found else None,
        "workers": {
            str(pid): dataclasses.asdict(memory)
            for pid in workers
            if (memory := process_memory(pid)) is not None
        },
    }


def _kib_fields(text: str) -> dict[str, int]:
    """Return the ``Name: <n> kB`` lines of a ``/proc`` file as {name: n}."""
    fields = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name.strip()] = int(parts[0])
    return fields


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)
