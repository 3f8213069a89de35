"""Mailed links come from MAILPROOF_BASE_URL alone, whatever Host or X-Forwarded-* say."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from werkzeug.middleware.proxy_fix import ProxyFix

from helpers import BASE_URL, PASSWORD, csrf_token

HOSTILE_HEADERS = [
    {"Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example"},
    {"Host": "good.example:x@evil.example"},
    {"X-Forwarded-Proto": "http"},
]


def post_with(client, url, data, headers):
    page = client.get(url, headers=headers)
    return client.post(url, data={"csrf_token": csrf_token(page), **data}, headers=headers)


def assert_links_are_ours(mails):
    assert mails
    for mail in mails:
        assert mail.links
        for link in mail.links:
            assert link.startswith(BASE_URL + "/"), link
        assert "evil.example" not in mail.text + mail.html


def registration(email):
    return {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}


@pytest.fixture(params=HOSTILE_HEADERS, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def headers(request):
    return request.param


@pytest.fixture(params=["plain", "proxyfix"])
def proxied(request, app):
    # Even an app that trusts its proxy's X-Forwarded-* headers mails only its own links.
    if request.param == "proxyfix":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    return app


def test_registration_mail(proxied, headers, outbox):
    response = post_with(proxied.test_client(), "/register", registration("a@example.com"), headers)

    assert response.status_code == 302
    assert_links_are_ours(outbox())


def test_registration_of_a_taken_address_mail(proxied, headers, outbox, make_user):
    make_user("taken@example.com")

    post_with(proxied.test_client(), "/register", registration("taken@example.com"), headers)

    assert_links_are_ours(outbox())


def test_logged_out_resend_mail(proxied, headers, outbox, make_user):
    make_user("pending@example.com", confirmed=False)

    post_with(proxied.test_client(), "/resend", {"email": "pending@example.com"}, headers)

    assert_links_are_ours(outbox())


def test_logged_in_resend_mail(proxied, headers, outbox, make_user):
    make_user("pending@example.com", confirmed=False)
    client = proxied.test_client()
    post_with(client, "/login", {"email": "pending@example.com", "password": PASSWORD}, headers)

    post_with(client, "/resend", {}, headers)

    assert_links_are_ours(outbox())


def test_expired_link_renewal_mail(proxied, headers, outbox):
    client = proxied.test_client()
    post_with(client, "/register", registration("a@example.com"), headers)
    link = outbox()[0].link("/confirm/")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)):
        page = client.get(link, headers=headers)
        assert page.status_code == 410
        client.post(link + "/renew", data={"csrf_token": csrf_token(page)}, headers=headers)

    mails = outbox()
    assert len(mails) == 2
    assert_links_are_ours(mails)


@pytest.mark.app_config(TRUSTED_HOSTS=["localhost", "mailproof.test"])
def test_trusted_hosts_refuse_other_hosts(client):
    assert client.get("/register").status_code == 200
    assert client.get("/register", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/register", headers={"Host": "x@mailproof.test"}).status_code == 400


def test_reset_mail(proxied, headers, outbox, make_user):
    make_user("forgot@example.com")

    post_with(proxied.test_client(), "/reset", {"email": "forgot@example.com"}, headers)

    assert_links_are_ours(outbox())


def test_email_change_mail_and_undo_notice(proxied, headers, outbox, make_user):
    make_user("alice@example.com")
    client = proxied.test_client()
    post_with(client, "/login", {"email": "alice@example.com", "password": PASSWORD}, headers)
    post_with(
        client,
        "/change-email",
        {"email": "alicia@example.com", "current_password": PASSWORD},
        headers,
    )
    link = outbox("alicia@example.com")[0].link("/change-email/")

    post_with(client, link, {}, headers)

    [notice] = [m for m in outbox("alice@example.com") if m.kind == "email_changed"]
    assert notice.link("/change-email/undo/")
    assert_links_are_ours(outbox())


def test_contact_verification_mail(proxied, headers, outbox):
    message = {"name": "Dana", "email": "dana@example.com", "message": "Hello"}

    post_with(proxied.test_client(), "/contact", message, headers)

    [mail] = outbox()
    assert mail.kind == "contact_verify"
    assert_links_are_ours([mail])
