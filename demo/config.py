"""Settings from the environment or a ``.env`` file, with safe development defaults."""

from __future__ import annotations

import json
import os
import secrets
import typing as t
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

#: Names read from the environment as they are.
_NAMES = (
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "DATABASE_URL",
    "REDIS_URL",
    "TRUSTED_HOSTS",
    "SQLALCHEMY_ENGINE_OPTIONS",
    "LOG_FORMAT",
)
#: Prefixes of names read from the environment.
_PREFIXES = ("MAIL_", "MAILPROOF_", "RATELIMIT_", "SESSION_", "REMEMBER_COOKIE_", "PROXY_FIX_")
#: ``PROXY_FIX_X_FOR`` ... ``PROXY_FIX_X_PREFIX``: how many proxies in front set each
#: ``X-Forwarded-*`` header (werkzeug's ``ProxyFix`` arguments); 0, the default, trusts none.
PROXY_FIX_HEADERS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")

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
    # Verified contact messages land here; in development, in the mailbox at /_mail.
    "MAILPROOF_CONTACT_RECIPIENT": "owner@localhost",
    # Sign in by emailed link besides passwords; set MAILPROOF_PASSWORDLESS=off to turn it off.
    "MAILPROOF_PASSWORDLESS": "on",
    # Every page of the demo is written for the extension's strict policy: send it everywhere.
    "MAILPROOF_SECURITY_HEADERS_APP_WIDE": True,
    # Test each pooled connection before use, so a restarted database costs no failed request.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # How the log reads (demo/logs.py): "text", gunicorn's line shape, or "json" lines.
    "LOG_FORMAT": "text",
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
    # Cookies travel over https only, outside debug (Flask's own default is False, so only
    # an explicit setting counts); the development server speaks plain http.
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        app.config[name] = explicit.get(name, not app.debug)


def _development_secret_key(instance: Path) -> str:
    """Return a random key kept in ``instance/`` so development sessions survive restarts."""
    path = instance / "development-secret-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def apply_proxy_fix(app: Flask) -> None:
    """Trust ``X-Forwarded-*`` from as many proxies as ``PROXY_FIX_*`` say, and no further.

    Only behind a proxy that sets these headers: without one, a client could send them and
    pass for any address (which per-IP rate limits key on) or scheme.
    """
    counts = {}
    for name in PROXY_FIX_HEADERS:
        key = f"PROXY_FIX_{name.upper()}"
        value = app.config.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key} must be a number of proxies (0 or more), not {value!r}.")
        counts[name] = value
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]
