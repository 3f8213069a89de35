"""Settings from the environment or a ``.env`` file, with safe development defaults."""

from __future__ import annotations

import json
import os
import secrets
import typing as t
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask

#: Names read from the environment as they are.
_NAMES = ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "DATABASE_URL", "REDIS_URL", "TRUSTED_HOSTS")
#: Prefixes of names read from the environment.
_PREFIXES = ("MAIL_", "MAILPROOF_", "RATELIMIT_", "SESSION_", "REMEMBER_COOKIE_")

#: Defaults before the environment: bodies are bounded (a 1 MB password still reaches the
#: form, which refuses it with a message instead of a bare 413).
DEFAULTS: dict[str, t.Any] = {
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
    "MAX_FORM_PARTS": 100,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "MAIL_DEFAULT_SENDER": "Flask-Mailproof demo <no-reply@localhost>",
}


def _parse(value: str) -> t.Any:
    """Take values that parse as JSON (numbers, true, false, lists) as such."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def environment_settings(environ: t.Mapping[str, str]) -> dict[str, t.Any]:
    """Return the settings named in ``environ``."""
    return {
        name: _parse(value)
        for name, value in environ.items()
        if name in _NAMES or name.startswith(_PREFIXES)
    }


def load_config(app: Flask, overrides: t.Mapping[str, t.Any] | None = None) -> None:
    """Fill ``app.config`` from defaults, ``.env``, the environment and ``overrides``."""
    load_dotenv(Path.cwd() / ".env")
    explicit = {**environment_settings(os.environ), **(overrides or {})}
    app.config.update(DEFAULTS)
    app.config.update(explicit)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI",
        app.config.get("DATABASE_URL")
        or f"sqlite:///{Path(app.instance_path) / 'mailproof-demo.sqlite3'}",
    )
    if app.debug and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _development_secret_key(Path(app.instance_path))
    # Flask's own default for SESSION_COOKIE_SECURE is False, so only an explicit value wins.
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        app.config[name] = explicit.get(name, not app.debug)


def _development_secret_key(instance: Path) -> str:
    """Return a random key kept in ``instance/`` so development sessions survive restarts."""
    path = instance / "development-secret-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
