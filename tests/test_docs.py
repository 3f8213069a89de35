"""The documentation's code, run: every Python block of README.md and docs/*.md is marked

- ``<!-- file: PATH -->``: a file of the README's example application, written to PATH;
- ``<!-- run -->``: run with ``python`` beside those files, which must succeed;
- ``<!-- fragment: why -->``: part of something larger (a migration's ``upgrade()``), not run;
- ``<!-- commands: yourapp.py -->`` (on a shell block): the README's commands that create the
  tables and serve the example; their ``export`` lines are the example's whole environment.

The example application is then served: sign-up, mail, confirmation and its gated page, in its
own layout. A snippet that stops working fails here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import typing as t
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import PASSWORD, csrf_token, parse_mail, submit

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent

_BLOCK = re.compile(
    r"(?:<!-- (?P<mark>run|file: [^ ]+|fragment: [^>]+|commands: [^ ]+) -->\n)?"
    r"^```(?P<lang>[\w+-]*)\n(?P<code>.*?)^```$",
    re.M | re.S,
)

#: Added to what the README's commands export: a faster hash, mail kept in the outbox, limits
#: counted afresh; none of them is needed to start. docs/delivery.md's Celery snippet says it
#: needs REDIS_URL (making the Celery app does not connect).
TEST_ONLY_ENVIRONMENT = {
    "FLASK_MAILPROOF_DELIVERY": "external",
    "FLASK_MAILPROOF_ARGON2_MEMORY_COST": "1024",
    "FLASK_MAILPROOF_ARGON2_TIME_COST": "1",
    "FLASK_RATELIMIT_STORAGE_URI": "memory://",
    "FLASK_REDIS_URL": "redis://127.0.0.1:6379/0",
}


class Block(t.NamedTuple):
    document: str
    mark: str
    lang: str
    code: str


def blocks() -> list[Block]:
    """Return every fenced block of the documents, with the mark before it ("" if none)."""
    return [
        Block(doc.relative_to(ROOT).as_posix(), m["mark"] or "", m["lang"], m["code"])
        for doc in DOCUMENTS
        for m in _BLOCK.finditer(doc.read_text())
    ]


def example_files() -> dict[str, str]:
    return {b.mark.removeprefix("file: "): b.code for b in blocks() if b.mark.startswith("file:")}


def runnable() -> list[Block]:
    return [b for b in blocks() if b.mark == "run"]


def example_commands() -> list[str]:
    """Return the README's shell lines for the example, comments and blank lines dropped."""
    [block] = [b for b in blocks() if b.mark == "commands: yourapp.py"]
    lines = [line.split("  #")[0].strip() for line in block.code.splitlines()]
    return [line for line in lines if line]


def exported_environment() -> dict[str, str]:
    """Run the README's ``export`` lines in bash; return the FLASK_* variables they set."""
    exports = "\n".join(c for c in example_commands() if c.startswith("export "))
    result = subprocess.run(
        ["bash", "-c", f"set -e\n{exports}\nenv -0"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    )
    pairs = (item.partition("=") for item in result.stdout.split("\0") if item)
    return {name: value for name, _, value in pairs if name.startswith("FLASK_")}


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The README's example application, written file by file into ``tmp_path``."""
    for name, code in example_files().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(code)
    for name in [n for n in os.environ if n.startswith("FLASK_")]:
        monkeypatch.delenv(name)
    for name, value in {**exported_environment(), **TEST_ONLY_ENVIRONMENT}.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_every_python_block_is_marked():
    unmarked = [b for b in blocks() if b.lang == "python" and not b.mark]

    assert not unmarked, [f"{b.document}: {b.code[:60]!r}" for b in unmarked]


def test_the_readme_has_the_example_application():
    assert {"yourapp.py", "templates/base.html", "templates/mailproof/layout.html"} <= set(
        example_files()
    )
    assert len(runnable()) >= 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "block", runnable(), ids=lambda b: f"{b.document}:{b.code.splitlines()[0][:40]}"
)
def test_runnable_block_runs(example, block):
    result = subprocess.run(
        [sys.executable, "-c", block.code], cwd=example, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_the_readme_exports_a_secret_key_and_debug():
    assert set(exported_environment()) == {"FLASK_SECRET_KEY", "FLASK_DEBUG"}
    assert len(exported_environment()["FLASK_SECRET_KEY"]) == 64


def _command(word: str) -> str:
    [line] = [c for c in example_commands() if word in c]
    return line


def _shell() -> dict[str, str]:
    """The environment the README's commands run in: theirs, and this venv's flask first."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.slow
def test_the_documented_command_creates_the_tables(example):
    result = subprocess.run(
        ["bash", "-c", _command("init-db")],
        cwd=example,
        env=_shell(),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "Created the tables" in result.stdout
    assert (example / "instance" / "yourapp.sqlite3").exists()


@pytest.mark.slow
def test_the_documented_command_serves_the_example(example):
    subprocess.run(["bash", "-c", _command("init-db")], cwd=example, env=_shell(), check=True)
    port = free_port()
    log = (example / "server.log").open("w")
    server = subprocess.Popen(
        ["bash", "-c", f"exec {_command(' run')}"],
        cwd=example,
        env={**_shell(), "FLASK_RUN_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # flask run's reloader is a second process: stop both
    )
    try:
        status = _wait_for(f"http://127.0.0.1:{port}/register", server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()

    assert status == 200, (example / "server.log").read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - built here
                return int(response.status)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url} within 30 s")


@pytest.fixture
def yourapp(example):
    """The example's module, imported from its file, on its own freshly created tables."""
    spec = importlib.util.spec_from_file_location("yourapp", example / "yourapp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["yourapp"] = module
    try:
        spec.loader.exec_module(module)
        app = module.create_app()
        app.config["TESTING"] = True
        app.test_cli_runner().invoke(args=["mailproof", "init-db"])
        yield module, app
        with app.app_context():
            module.db.session.remove()
            module.db.engine.dispose()
    finally:
        del sys.modules["yourapp"]


def _mails(module, app):
    with app.app_context():
        rows = module.db.session.scalars(select(module.models.outbox)).all()
        return [parse_mail(row.raw, row.kind) for row in rows]


def test_the_example_signs_up_confirms_and_serves_its_gated_page(yourapp):
    module, app = yourapp
    client = app.test_client()
    assert client.get("/").headers["Location"].startswith("/login")

    registered = submit(
        client,
        "/register",
        {"email": "alice@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    [mail] = _mails(module, app)
    confirmed = submit(client, mail.link("/confirm/"))
    submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD})
    home = client.get("/")

    assert registered.headers["Location"] == "/unconfirmed"
    assert mail.links[0].startswith("http://127.0.0.1:5000/confirm/")
    assert confirmed.headers["Location"] == "/login"
    assert home.status_code == 200
    assert home.text == "Hello alice@example.com: your address is confirmed."


def test_the_examples_pages_are_inside_its_layout_with_the_stylesheet(yourapp):
    _, app = yourapp
    client = app.test_client()

    page = client.get("/register")
    css = client.get("/_mailproof/static/mailproof.css")

    assert page.status_code == 200
    assert "<title>Create an account · Your app</title>" in page.text
    assert '<header><a href="/">Your app</a>' in page.text
    assert 'href="/_mailproof/static/mailproof.css"' in page.text
    assert csrf_token(page)
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    css.close()


def test_the_flashes_show_in_the_examples_layout(yourapp):
    _, app = yourapp
    client = app.test_client()

    response = client.get("/", follow_redirects=True)

    assert 'class="flash flash-info"' in response.text
    assert "Please log in to see this page." in response.text


def test_the_stylesheet_styles_every_class_the_pages_use():
    templates = ROOT / "src" / "flask_mailproof" / "templates" / "mailproof"
    used = set()
    for template in templates.glob("*.html"):
        for value in re.findall(r'class="([^"{]*)"', template.read_text()):
            used.update(value.split())
    css = (ROOT / "src" / "flask_mailproof" / "static" / "mailproof.css").read_text()
    styled = set(re.findall(r"\.([a-z][\w-]*)", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))

    assert used, "no class found: the pattern is broken"
    assert used <= styled | {"button"}, used - styled


def test_the_stylesheet_needs_nothing_the_default_policy_refuses():
    css = (ROOT / "src" / "flask_mailproof" / "static" / "mailproof.css").read_text()

    assert "@import" not in css
    assert "url(" not in css


def test_the_examples_own_pages_keep_their_headers_and_ours_carry_the_policy(yourapp):
    _, app = yourapp

    @app.get("/about")
    def about():
        return "<p>About</p>", 200, {"Content-Security-Policy": "default-src 'self'"}

    client = app.test_client()
    own = client.get("/about")
    ours = client.get("/login")

    assert own.headers["Content-Security-Policy"] == "default-src 'self'"
    assert "X-Frame-Options" not in own.headers
    assert "style-src 'self'" in ours.headers["Content-Security-Policy"]
    assert ours.headers["X-Frame-Options"] == "DENY"
