"""``confirmed_required``, the grace period, and what the navigation offers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from demo.models import db, models
from flask_mailproof import confirmed_required


@pytest.fixture
def gated(app):
    """A host view behind ``confirmed_required``; returns the list of calls it got."""
    calls = []

    @app.route("/reports")
    @confirmed_required
    def reports():
        calls.append(1)
        return "the reports"

    return calls


def test_anonymous_visitor_goes_to_login(client, gated):
    response = client.get("/reports")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert gated == []


def test_unconfirmed_user_goes_to_unconfirmed(client, gated, make_user, login):
    make_user("alice@example.com", confirmed=False)
    login("alice@example.com")

    response = client.get("/reports")

    assert response.status_code == 302
    assert response.headers["Location"] == "/unconfirmed"
    assert gated == []


def test_confirmed_user_passes(client, gated, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    response = client.get("/reports")

    assert response.status_code == 200
    assert response.text == "the reports"


def test_gate_sends_no_mail_and_changes_nothing(app, client, gated, make_user, login, get_user):
    make_user("alice@example.com", confirmed=False)
    login("alice@example.com")
    before = get_user("alice@example.com")

    for _ in range(3):
        client.get("/reports")

    after = get_user("alice@example.com")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(models.outbox)) == 0
    assert (after.confirm_counter, after.confirmation_sent_at) == (
        before.confirm_counter,
        before.confirmation_sent_at,
    )


def test_keeps_the_view_name(gated, app):
    assert app.view_functions["reports"].__name__ == "reports"


@pytest.fixture
def grace(config):
    config["MAILPROOF_UNCONFIRMED_GRACE"] = 3600


def test_unconfirmed_user_passes_within_the_grace_period(
    grace, client, gated, make_user, login, time_machine
):
    time_machine.move_to("2026-05-01 10:00:00", tick=False)
    make_user("alice@example.com", confirmed=False)
    login("alice@example.com")

    time_machine.shift(3599)
    assert client.get("/reports").status_code == 200


def test_unconfirmed_user_is_stopped_after_the_grace_period(
    grace, client, gated, make_user, login, time_machine
):
    time_machine.move_to("2026-05-01 10:00:00", tick=False)
    make_user("alice@example.com", confirmed=False)
    login("alice@example.com")

    time_machine.shift(3600)
    assert client.get("/reports").headers["Location"] == "/unconfirmed"


def test_no_grace_by_default(client, gated, make_user, login):
    make_user("alice@example.com", confirmed=False)
    login("alice@example.com")

    assert client.get("/reports").status_code == 302


def test_nav_shows_confirm_your_address_to_unconfirmed_users(client, make_user, login):
    make_user("alice@example.com", confirmed=False)
    login("alice@example.com")

    page = _nav(client.get("/").text)

    assert ">Confirm your address</a>" in page
    assert ">Profile</a>" not in page


def test_nav_shows_profile_to_confirmed_users(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    page = _nav(client.get("/").text)

    assert ">Profile</a>" in page
    assert ">Confirm your address</a>" not in page


def test_nav_offers_login_and_register_to_visitors(client):
    page = _nav(client.get("/").text)

    assert ">Log in</a>" in page
    assert ">Register</a>" in page
    assert ">Profile</a>" not in page


def _nav(html):
    start = html.index('<nav aria-label="Account">')
    return html[start : html.index("</nav>", start)]
