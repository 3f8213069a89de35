"""Security headers on every page, without breaking the pages or Flask-WTF's referer check."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask_login import current_user

from helpers import PASSWORD, csrf_token, register, submit

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


def test_every_page_is_html_in_utf_8(pages):
    # Served as anything else, a browser would show the markup, or guess the encoding.
    for name, response in pages.items():
        assert response.content_type == "text/html; charset=utf-8", name


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
    sandbox = re.search(r'<iframe [^>]*sandbox="([^"]*)" srcdoc="[^"]*style=', body)[1]
    # A click may open a link at the top level; nothing may run, submit or reach the site.
    assert set(sandbox.split()) == {
        "allow-top-navigation-by-user-activation",
        "allow-popups",
        "allow-popups-to-escape-sandbox",
    }
    assert "allow-scripts" not in body
    assert "allow-same-origin" not in body


def test_html_part_alone_is_sandboxed_without_scripts(client, outbox):
    submit(
        client,
        "/register",
        {"email": "a@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    response = client.get("/_mail/1/html")

    assert response.status_code == 200
    policy = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert policy[0] == (
        "sandbox allow-top-navigation-by-user-activation allow-popups "
        "allow-popups-to-escape-sandbox"
    )
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "Confirm your email address" in response.text


def test_headers_the_app_set_are_kept(app, client):
    @app.get("/own-policy")
    def own_policy():
        return "ok", 200, {"Content-Security-Policy": "default-src 'none'"}

    response = client.get("/own-policy")

    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.app_config(MAILPROOF_SECURITY_HEADERS_APP_WIDE=False)
def test_by_default_the_hosts_own_pages_get_no_policy(client):
    response = client.get("/")

    assert response.status_code == 200
    for name in ("Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security"):
        assert name not in response.headers, name
    assert "Referrer-Policy" not in response.headers


@pytest.mark.app_config(MAILPROOF_SECURITY_HEADERS_APP_WIDE=False)
def test_by_default_the_extensions_pages_and_api_still_get_them(client):
    for path in ("/login", "/register", "/api/csrf"):
        response = client.get(path)
        assert_protected(response)
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_the_demo_sends_them_app_wide(client):
    assert_protected(client.get("/"))


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


def test_every_page_with_a_form_token_or_an_account_is_not_stored(pages):
    private = {
        name: response
        for name, response in pages.items()
        if 'name="csrf_token"' in response.get_data(as_text=True)
        or name in ("/profile", "/change-password", "/change-email")
    }

    assert len(private) >= 15
    for name, response in private.items():
        assert response.headers.get("Cache-Control") == "no-store", name


def test_the_home_page_of_a_logged_in_user_is_not_stored(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    assert client.get("/").headers.get("Cache-Control") == "no-store"


def test_api_answers_are_not_stored(client, make_user):
    make_user("alice@example.com")
    token = client.get("/api/csrf")
    login = client.post(
        "/api/login",
        json={"email": "alice@example.com", "password": PASSWORD},
        headers={"X-CSRFToken": token.get_json()["csrf_token"]},
    )

    for response in (token, login, client.get("/api/me")):
        assert response.headers.get("Cache-Control") == "no-store", response.request.path


def test_static_files_stay_cacheable(client):
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_static_files_stay_cacheable_for_a_logged_in_user(app, client, make_user, login):
    # A host that loads the user on every request, static files included.
    @app.before_request
    def load_user():
        current_user.is_authenticated  # noqa: B018

    make_user("alice@example.com")
    login("alice@example.com")

    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.app_config(WTF_CSRF_FIELD_NAME="form_token")
def test_a_host_page_with_a_form_token_is_not_stored_whatever_the_fields_name(app, client):
    @app.get("/host-form")
    def host_form():
        return render_template_string('<form><input name="form_token" value="{{ csrf_token() }}">')

    response = client.get("/host-form")

    assert 'name="form_token"' in response.get_data(as_text=True)
    assert response.headers.get("Cache-Control") == "no-store"


def test_a_host_page_that_shows_the_account_without_a_form_is_not_stored(
    app, client, make_user, login
):
    @app.get("/whoami")
    def whoami():
        return current_user.email

    make_user("alice@example.com")
    login("alice@example.com")
    response = client.get("/whoami")

    assert response.text == "alice@example.com"
    assert response.headers.get("Cache-Control") == "no-store"


def test_an_extension_page_without_a_form_is_not_stored_either(client):
    response = client.get("/contact/sent")

    assert response.status_code == 200
    assert "csrf_token" not in response.get_data(as_text=True)
    assert response.headers.get("Cache-Control") == "no-store"


def test_a_host_page_without_a_form_or_an_account_may_be_stored(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "Cache-Control" not in response.headers


def test_an_https_base_url_turns_on_hsts(client):
    response = client.get("/login")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.app_config(MAILPROOF_BASE_URL="http://mailproof.test")
def test_an_http_base_url_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.app_config(MAILPROOF_HSTS=False)
def test_the_hsts_setting_turns_it_off(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def _ask_for_a_link(client, kind, login):
    """Make the site mail a link of ``kind``; return where it goes and its path."""
    if kind == "confirm":
        register(client)
        return "alice@example.com", "/confirm/"
    if kind == "email_change":
        register(client, "bob@example.com")
        login("bob@example.com")
        submit(
            client, "/change-email", {"email": "bobby@example.com", "current_password": PASSWORD}
        )
        return "bobby@example.com", "/change-email/"
    submit(client, "/contact", {"name": "Carol", "email": "carol@example.com", "message": "Hi"})
    return "carol@example.com", "/contact/verify/"


@pytest.mark.parametrize("kind", ["confirm", "email_change", "contact_verify"])
def test_a_page_with_a_token_in_its_url_keeps_the_referrer_on_site_whatever_the_host_prefers(
    app, client, outbox, login, kind
):
    # A host that defaults every page to a laxer policy, as ours defaults the missing headers.
    @app.after_request
    def lax_default(response):
        response.headers.setdefault("Referrer-Policy", "unsafe-url")
        return response

    to, prefix = _ask_for_a_link(client, kind, login)
    [mail] = [m for m in outbox(to) if m.kind == kind]

    link_page = client.get(mail.link(prefix))

    assert client.get("/").headers["Referrer-Policy"] == "unsafe-url"
    assert link_page.status_code == 200
    assert link_page.headers["Referrer-Policy"] == "same-origin"


def test_pages_without_a_mailed_links_token_keep_the_hosts_referrer_policy(app, client):
    """Only a page of ours whose URL carries a link's token overrides the host's policy: our
    other pages, and the host's own pages whatever their URL's arguments are named, keep what
    the host chose (here one stricter than ours)."""

    @app.after_request
    def strict_default(response):
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/invitations/<token>")
    def invitation(token):
        return "welcome"

    assert client.get("/login").headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/invitations/abc").headers["Referrer-Policy"] == "no-referrer"


def test_the_reset_request_page_keeps_the_referrer_on_site_whatever_the_host_prefers(app, client):
    @app.after_request
    def lax_default(response):
        response.headers.setdefault("Referrer-Policy", "unsafe-url")
        return response

    response = client.get("/reset")

    assert client.get("/").headers["Referrer-Policy"] == "unsafe-url"
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "same-origin"
