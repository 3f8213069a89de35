"""The operator's endpoints: the health check and the Prometheus metrics (paths are settings).

A blueprint made per application, since each path is a setting and either may be off. Both
are GETs that read nothing from the session or a form: no CSRF check applies, and no cookie is
set. They are exempt from Flask-Limiter's default limits, which a host may have set for every
route: a monitor calling every second must not be refused, nor use up a client's allowance.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint, Response, abort, jsonify

from ..state import current_state

if t.TYPE_CHECKING:
    from ..settings import Settings


def operations_blueprint(settings: Settings) -> Blueprint:
    """Return a blueprint serving the health check and the metrics where the settings say."""
    blueprint = Blueprint("mailproof_operations", "flask_mailproof")
    if settings.health_path:
        blueprint.add_url_rule(settings.health_path, "health", health, methods=["GET"])
    if settings.metrics_path:
        blueprint.add_url_rule(settings.metrics_path, "metrics", metrics, methods=["GET"])
    return blueprint


def health() -> Response:
    """Answer 200 while the site can serve, 503 when the database or delivery is down."""
    report = current_state().health.run()
    response = jsonify(report.as_json())
    response.status_code = 200 if report.healthy else 503
    # Each call must see the present: no proxy or browser may answer it from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def metrics() -> Response:
    """Answer with the metrics in Prometheus's text format."""
    recorder = current_state().metrics
    if recorder is None:  # pragma: no cover - the route exists only with metrics on
        abort(404)
    body, content_type = recorder.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
