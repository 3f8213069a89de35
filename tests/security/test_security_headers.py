"""Security headers on every page, without breaking the pages or Flask-WTF's referer check."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, csrf_token, submit

REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_protected(response):
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src


def assert_no_inline_code(response):
    body = response.get_data(as_text=True)
    assert "<script" not in body
    assert " style=" not in body
    assert "<style" not in body
    assert not re.search(r"\son[a-z]+=", body), "inline event handler"


@pytest.fixture
def pages(client, make_user, outbox):
    """A response from every page and error page the extension serves."""
    make_user("alice@example.com")
    found = {
        url: client.get(url)
        for url in ("/", "/register", "/login", "/resend", "/unconfirmed", "/_mail", "/nowhere")
    }
    found["confirm (bad link)"] = client.get("/confirm/junk")
    found["form error"] = submit(client, "/register", {"email": "not an address"})
    found["csrf error"] = client.post("/login", data={})
    found["too large"] = client.post("/login", data={"x": "y" * (3 * 1024 * 1024)})
    submit(
        client,
        "/register",
        {"email": "b@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    found["confirm"] = client.get(outbox()[0].link("/confirm/"))
    for url in ("/reset", "/contact", "/contact/sent", "/contact/received"):
        found[url] = client.get(url)
    for url in ("/reset/junk", "/contact/verify/junk", "/change-email/junk"):
        found[f"{url} (bad link)"] = client.get(url, follow_redirects=True)
    found["/change-email/undo/junk (bad link)"] = client.get("/change-email/undo/junk")
    submit(client, "/reset", {"email": "alice@example.com"})
    found["reset link"] = client.get(outbox("alice@example.com")[-1].link("/reset/"))
    found["set password"] = client.get("/reset/set-password")
    submit(client, "/contact", {"name": "Dana", "email": "dana@example.com", "message": "Hi"})
    found["contact link"] = client.get(outbox("dana@example.com")[-1].link("/contact/verify/"))
    submit(client, "/login", {"email": "alice@example.com", "password": PASSWORD})
    for url in ("/profile", "/change-password", "/change-email"):
        found[url] = client.get(url)
    submit(client, "/change-email", {"email": "alicia@example.com", "current_password": PASSWORD})
    found["change-email link"] = client.get(outbox("alicia@example.com")[-1].link("/change-email/"))
    submit(client, found["change-email link"].request.url)
    [notice] = [m for m in outbox("alice@example.com") if m.kind == "email_changed"]
    found["undo link"] = client.get(notice.link("/change-email/undo/"))
    return found


def test_every_page_carries_the_headers(pages):
    for response in pages.values():
        assert_protected(response)


def test_no_page_needs_inline_scripts_or_styles(pages):
    for response in pages.values():
        assert_no_inline_code(response)


@pytest.mark.app_config(MAILPROOF_LIMIT_SIGNUP_PER_IP="1 per minute")
def test_the_429_page_carries_the_headers(client):
    data = {"email": "a@example.com", "password": PASSWORD, "password_confirm": PASSWORD}
    submit(client, "/register", data)

    response = submit(client, "/register", {**data, "email": "b@example.com"})

    assert response.status_code == 429
    assert_protected(response)


def test_dev_mail_preview_allows_only_inline_styles_in_a_sandbox(client, outbox):
    submit(
        client,
        "/register",
        {"email": "a@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    response = client.get("/_mail/1")

    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    body = response.get_data(as_text=True)
    assert re.search(r'<iframe [^>]*sandbox srcdoc="[^"]*style=', body)
    assert "allow-scripts" not in body


def test_headers_the_app_set_are_kept(app, client):
    @app.get("/own-policy")
    def own_policy():
        return "ok", 200, {"Content-Security-Policy": "default-src 'none'"}

    response = client.get("/own-policy")

    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.app_config(MAILPROOF_CONTENT_SECURITY_POLICY="")
def test_an_empty_policy_setting_adds_none(client):
    assert "Content-Security-Policy" not in client.get("/login").headers


@pytest.mark.app_config(PREFERRED_URL_SCHEME="https", WTF_CSRF_SSL_STRICT=True)
def test_same_origin_referrer_policy_keeps_flask_wtf_https_check_working(app, make_user):
    # Under "same-origin" a browser sends the full Referer on our own forms, which is what
    # Flask-WTF checks over HTTPS; "no-referrer" would make every HTTPS form fail.
    make_user("alice@example.com")
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    data = {"csrf_token": csrf_token(page), "email": "alice@example.com", "password": PASSWORD}
    assert page.headers["Referrer-Policy"] == "same-origin"

    without = client.post("/login", data=data, base_url="https://localhost")
    same_origin = client.post(
        "/login",
        data=data,
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )

    assert without.status_code == 400
    assert same_origin.status_code == 302
