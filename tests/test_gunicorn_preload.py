"""gunicorn.conf.py preloads the app in the master, and nothing that belongs to one process
starts before the fork: the delivery thread and the database connections are the workers'.

Structure only, read from /proc (Linux): what the master has mapped and holds open, which
processes sent the mail. What preloading saves is measured by ``make bench`` (scenario 6).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from helpers import PASSWORD
from processes import Browser, Process, gunicorn_environment
from smtp import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="Linux /proc"),
]

BIN = Path(sys.executable).parent
WORKERS = 2
SIGN_UPS = 8
#: A compiled module only the app imports (argon2-cffi's bindings): gunicorn alone never
#: maps it, so the master has it mapped only if it loaded the app.
APP_ONLY_LIBRARY = "_argon2_cffi_bindings"


def serve(config, smtp, tmp_path: Path, port: int) -> Process:
    """Serve the demo as docs/deploy.md does, with two workers and JSON logs."""
    env = gunicorn_environment(
        config, smtp, port, WORKERS, LOG_FORMAT="json", GUNICORN_ACCESS_LOG="/dev/null"
    )
    for name in ("GUNICORN_PRELOAD", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    server = Process(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "demo:create_app()"],
        env,
        tmp_path / "gunicorn.log",
    )
    deadline = time.monotonic() + 30
    while len(worker_pids(server.popen.pid)) < WORKERS or not answers(port):
        if server.popen.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise AssertionError("gunicorn did not start:\n" + server.output())
        time.sleep(0.2)
    return server


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
            return True
    except (urllib.error.URLError, OSError):
        return False


def worker_pids(master: int) -> set[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return {int(pid) for pid in path.read_text().split()}


def maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def open_files(pid: int) -> set[str]:
    """Return what the fds of ``pid`` point to: paths, ``socket:[inode]``, ``pipe:[...]``."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:  # closed meanwhile
            continue
    return found


def database_handles(pid: int, url: str) -> set[str]:
    """Return the open files of ``pid`` that are connections to the database at ``url``.

    SQLite: the database file. A server: TCP sockets whose remote port is the database's,
    named by inode, so that a socket two processes share (one inherited over a fork) shows
    up under the same name in both.
    """
    parsed = make_url(url)
    files = open_files(pid)
    if parsed.get_backend_name() == "sqlite":
        return {name for name in files if name == str(Path(parsed.database or "").resolve())}
    port = parsed.port or {"postgresql": 5432, "mysql": 3306}[parsed.get_backend_name()]
    remote = {
        inode
        for table in ("tcp", "tcp6")
        for inode in _inodes_connected_to(Path(f"/proc/{pid}/net/{table}"), port)
    }
    return {name for name in files if name in {f"socket:[{inode}]" for inode in remote}}


def _inodes_connected_to(table: Path, port: int) -> set[str]:
    inodes = set()
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if remote_port == port:
            inodes.add(fields[9])
    return inodes


def sign_up(base: str, n: int) -> int:
    data = {"email": f"user{n}@example.com", "password": PASSWORD, "password_confirm": PASSWORD}
    return Browser(base).submit("/register", data)


def sent(log: str) -> list[int]:
    """Return the pid that logged each mail sent (the JSON log's ``process``)."""
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line["process"] for line in lines if " sent after " in line["message"]]


@pytest.fixture
def served(smtp, config, app, tmp_path):
    """The demo under gunicorn with two workers, after sign-ups on both; yields its master's
    pid, its workers' pids and its log."""
    port = free_port()
    server = serve(config, smtp, tmp_path, port)
    try:
        master = server.popen.pid
        workers = worker_pids(master)
        # Side by side, so both workers take sign-ups (each hashes while the other accepts).
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            base = f"http://127.0.0.1:{port}"
            statuses = list(pool.map(lambda n: sign_up(base, n), range(SIGN_UPS)))
        assert statuses == [200] * SIGN_UPS  # after the redirect to /unconfirmed
        deadline = time.monotonic() + 30
        while len(sent(server.output())) < SIGN_UPS:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        yield master, workers, server.output()
    finally:
        server.kill(signal.SIGTERM)


def test_the_master_loads_the_app_before_forking(served):
    master, workers, _ = served

    assert APP_ONLY_LIBRARY in maps(master), "preload_app is off: each worker imports the app"
    for worker in workers:
        assert APP_ONLY_LIBRARY in maps(worker)


def test_mail_is_delivered_by_the_workers_threads_not_the_masters(served):
    master, workers, log = served

    assert len(sent(log)) == SIGN_UPS
    assert set(sent(log)) <= workers
    assert master not in sent(log)


def test_no_database_connection_is_opened_before_the_fork_or_shared(served, config):
    master, workers, _ = served
    url = config["SQLALCHEMY_DATABASE_URI"]

    assert database_handles(master, url) == set()
    held = [database_handles(worker, url) for worker in workers]
    assert all(held), "each worker that served a sign-up holds its pooled connection"
    if make_url(url).get_backend_name() != "sqlite":  # one file has one name in every process
        first, second = held
        assert first.isdisjoint(second), "a connection inherited over the fork"
