"""A local SMTP server for the delivery benchmarks, run in a child process.

``python -m bench.mail_sink PORT HOLD`` accepts every message on 127.0.0.1:PORT and answers
each DATA after HOLD seconds. In its own process it does not share the interpreter lock
with the code measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import platform
import socket
import subprocess
import sys
import time
import typing as t
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Sink:
    def __init__(self, hold: float) -> None:
        self.hold = hold

    async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        if self.hold:
            await asyncio.sleep(self.hold)
        return "250 OK"


def serve(port: int, hold: float) -> None:
    """Accept every message on 127.0.0.1:``port``, answering DATA after ``hold`` seconds."""

    controller = Controller(_Sink(hold), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)


@contextlib.contextmanager
def smtp_sink(hold: float) -> t.Iterator[int]:
    """Run the sink in a child process; yield its port."""
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.mail_sink", str(port), str(hold)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        yield port
    finally:
        child.terminate()
        child.wait(10)


def machine() -> str:
    """Describe the machine: CPU model, cores, Python, date."""
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average {load} at start"
    )


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]))
