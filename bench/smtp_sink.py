"""A local SMTP server (aiosmtpd) that holds each message for a set delay, then accepts it.

Run as its own process (``python -m bench.smtp_sink --delay 1 --out mail.jsonl``) so that its
work never competes for the GIL of the process being measured. It prints ``port <n>`` once it
listens and appends one JSON line per accepted message to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

from aiosmtpd.controller import Controller


class HoldingHandler:
    """Accept every message after ``delay`` seconds, recording it to ``out``."""

    def __init__(self, delay: float, out: Path) -> None:
        self.delay = delay
        self.out = out.open("a", encoding="ascii", errors="replace")
        self.lock = threading.Lock()

    async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        record = {
            "at": time.time(),
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "data": envelope.content.decode("ascii", "replace"),
        }
        with self.lock:
            self.out.write(json.dumps(record) + "\n")
            self.out.flush()
        return "250 OK"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to hold each message")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    port = free_port()
    controller = Controller(
        HoldingHandler(args.delay, args.out), hostname="127.0.0.1", port=port, ready_timeout=10
    )
    controller.start()
    print(f"port {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


class SmtpSink:
    """The sink as a child process: start it, count and read what it received, stop it."""

    def __init__(self, delay: float, out: Path) -> None:
        self.delay = delay
        self.out = out
        self.out.unlink(missing_ok=True)
        self.out.touch()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", "--delay", str(delay), "--out", str(out)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "port":
            self.stop()
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(line[1])

    def count(self) -> int:
        """Return how many messages were accepted so far."""
        with self.out.open("rb") as file:
            return sum(1 for _ in file)

    def messages(self) -> list[dict[str, t.Any]]:
        """Return every accepted message as recorded."""
        with self.out.open(encoding="ascii") as file:
            return [json.loads(line) for line in file if line.strip()]

    def wait_for(self, count: int, timeout: float) -> int:
        """Wait until ``count`` messages arrived or ``timeout`` passed; return the count."""
        deadline = time.monotonic() + timeout
        seen = self.count()
        while seen < count and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = self.count()
        return seen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


if __name__ == "__main__":
    main()
