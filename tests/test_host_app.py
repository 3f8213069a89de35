"""A host application of its own: its own user model, its own views and templates."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_login import current_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, inspect, select
from sqlalchemy.orm import Mapped, mapped_column

from flask_mailproof import Mailproof, UserMixin, confirmed_required, define_models
from helpers import PASSWORD, csrf_token, parse_mail, register, submit

host_db = SQLAlchemy()


class Account(host_db.Model, UserMixin):
    __tablename__ = "accounts"

    display_name: Mapped[str | None] = mapped_column(String(80))


host_models = define_models(host_db, user_model=Account)


def create_host_app(tmp_path, *, call_init_app):
    templates = tmp_path / "templates" / "mailproof" / "email"
    templates.mkdir(parents=True)
    (templates / "confirm_subject.txt").write_text("Welcome to Host: confirm your address")
    app = Flask("host", template_folder=str(tmp_path / "templates"))
    app.config.update(
        TESTING=True,
        SECRET_KEY="host-secret-key-0123456789-0123456789",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite3'}",
        MAILPROOF_BASE_URL="https://host.example",
        MAILPROOF_DELIVERY="external",
        MAILPROOF_ARGON2_MEMORY_COST=1024,
        MAILPROOF_ARGON2_TIME_COST=1,
    )
    host_db.init_app(app)
    if call_init_app:
        Mailproof(db=host_db, models=host_models).init_app(app)
    else:
        Mailproof(app, db=host_db, models=host_models)

    @app.route("/dashboard")
    @confirmed_required
    def dashboard():
        user = current_user._get_current_object()
        return f"dashboard of {user.email} ({type(user).__name__})"

    with app.app_context():
        host_db.create_all()
    return app


@pytest.fixture(params=["init_app", "constructor"])
def host(request, tmp_path):
    app = create_host_app(tmp_path, call_init_app=request.param == "init_app")
    yield app
    with app.app_context():
        host_db.session.remove()
        host_db.drop_all()
        host_db.engine.dispose()


def _mails(app):
    with app.app_context():
        rows = host_db.session.scalars(select(host_models.outbox)).all()
        return [parse_mail(row.raw, row.kind) for row in rows]


def test_state_lives_in_app_extensions(host):
    state = host.extensions["mailproof"]

    assert state.models.user is Account
    assert state.settings.base_url == "https://host.example"


def test_accounts_live_in_the_hosts_own_table(host):
    with host.app_context():
        columns = {c["name"] for c in inspect(host_db.engine).get_columns("accounts")}

    assert {"email", "email_key", "password_hash", "confirmed_at", "session_stamp"} <= columns
    assert "display_name" in columns


def test_sign_up_confirm_login_and_reach_a_gated_host_view(host):
    client = host.test_client()

    assert register(client).headers["Location"] == "/unconfirmed"
    [mail] = _mails(host)
    link = mail.link("/confirm/")
    assert mail.links[0].startswith("https://host.example/confirm/")
    assert submit(client, link).headers["Location"] == "/login"
    submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD})

    response = client.get("/dashboard")

    assert response.status_code == 200
    assert response.text == "dashboard of alice@example.com (Account)"


def test_unconfirmed_host_user_is_kept_out_of_the_gated_view(host):
    client = host.test_client()
    register(client)
    submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD})

    assert client.get("/dashboard").headers["Location"] == "/unconfirmed"


def test_host_templates_override_the_mail_templates(host):
    register(host.test_client())

    [mail] = _mails(host)
    assert mail.subject == "Welcome to Host: confirm your address"
    assert "/confirm/" in mail.text, "parts not overridden keep the bundled templates"


def test_pages_render_with_the_bundled_layout(host):
    response = host.test_client().get("/register")

    assert response.status_code == 200
    assert "<title>Create an account</title>" in response.text


def test_an_app_without_the_api_gets_no_api_command(host, app):
    # ``app`` (the demo) has the JSON API and its command; the host app beside it has neither.
    assert "api-reference" in app.cli.commands["mailproof"].commands
    assert "api-reference" not in host.cli.commands["mailproof"].commands
    assert "outbox" in host.cli.commands["mailproof"].commands


def test_each_app_with_the_api_documents_its_own_routes(another_app, app):
    other = another_app()

    documents = [a.test_client().get("/api/openapi.json").get_json() for a in (app, other)]

    assert documents[0] == documents[1]
    assert "/api/register" in documents[0]["paths"]
    assert app.extensions["mailproof_api"].spec is not other.extensions["mailproof_api"].spec


def test_logout_on_the_host_ends_that_login_for_a_copied_cookie(host):
    client = host.test_client()
    register(client)
    submit(client, _mails(host)[0].link("/confirm/"))
    submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD})
    copy = host.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/dashboard").status_code == 200

    token = csrf_token(client.get("/profile"))
    client.post("/logout", data={"csrf_token": token})

    assert copy.get("/dashboard").headers["Location"].startswith("/login")
