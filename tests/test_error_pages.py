"""The demo's error pages: in its layout and the visitor's language, the API's still JSON."""

from __future__ import annotations

import pytest

GERMAN = {"Accept-Language": "de"}


@pytest.fixture
def failing(app):
    """An app with a route that fails, and errors handled as in production (not raised)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/fails")
    def fails():
        raise RuntimeError("a bug")

    return app


def test_unknown_page_is_a_404_in_the_demo_layout(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    page = response.text
    assert '<header class="site-header">' in page
    assert "<h1>Page not found</h1>" in page
    assert '<html lang="en">' in page


def test_unknown_page_is_german_for_a_german_browser(client):
    response = client.get("/no-such-page", headers=GERMAN)

    assert response.status_code == 404
    assert "<h1>Seite nicht gefunden</h1>" in response.text
    assert '<html lang="de">' in response.text


def test_wrong_method_is_a_405_in_the_demo_layout(client):
    response = client.put("/login")

    assert response.status_code == 405
    assert "<h1>This page cannot be used that way</h1>" in response.text


def test_failure_is_a_500_in_the_demo_layout_without_the_error(failing, client):
    response = client.get("/fails", headers=GERMAN)

    assert response.status_code == 500
    assert "<h1>Etwas ist schiefgegangen</h1>" in response.text
    assert '<header class="site-header">' in response.text
    assert "a bug" not in response.text


def test_api_errors_stay_json(client):
    response = client.get("/api/no-such-endpoint", headers=GERMAN)

    assert response.status_code == 404
    assert response.is_json


def test_dev_mailbox_refusal_gets_the_404_page(config, request):
    config["MAILPROOF_DEV_MAILBOX"] = False
    client = request.getfixturevalue("client")

    response = client.get("/_mail")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text
