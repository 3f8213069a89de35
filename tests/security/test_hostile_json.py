"""Hostile JSON on every API endpoint: nesting deep enough to exhaust the parser's stack."""

from __future__ import annotations

import pytest

# The POST endpoints that take no body: they never parse one, so any body is ignored.
BODILESS = {"/api/logout", "/api/logout-everywhere"}


def post_endpoints(app):
    """Return every API path that reads a JSON body: each POST but the two logouts."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        and "POST" in (rule.methods or ())
        and rule.rule not in BODILESS
    )


def post_raw(client, path, body):
    token = client.get("/api/csrf").get_json()["csrf_token"]
    return client.post(
        path, data=body, headers={"X-CSRFToken": token, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize("depth", [1_100, 100_000])
def test_deeply_nested_json_is_400_malformed_json_everywhere(app, client, login, make_user, depth):
    make_user("nested@example.com")
    login("nested@example.com")
    body = "[" * depth + "]" * depth

    answers = {path: post_raw(client, path, body) for path in post_endpoints(app)}

    assert len(answers) > 10
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(answers, 400)
    assert {r.get_json()["code"] for r in answers.values()} == {"malformed_json"}


def test_deep_nesting_inside_an_object_is_400_malformed_json(client):
    body = '{"email": ' + "[" * 5_000 + "]" * 5_000 + "}"

    response = post_raw(client, "/api/register", body)

    assert response.status_code == 400
    assert response.get_json()["code"] == "malformed_json"
