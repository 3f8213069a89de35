"""Registration: accounts, the confirmation mail, and no account enumeration."""

from __future__ import annotations

from conftest import BASE_URL, PASSWORD, submit


def register(client, email="alice@example.com", password=PASSWORD, confirm=None):
    return submit(
        client,
        "/register",
        {"email": email, "password": password, "password_confirm": confirm or password},
    )


def test_register_creates_unconfirmed_account_and_mails_link(client, outbox, get_user):
    response = register(client, "Alice@Example.com")

    assert response.status_code == 302
    assert response.headers["Location"] == "/unconfirmed"
    user = get_user("alice@example.com")
    assert user is not None
    assert user.confirmed_at is None
    [mail] = outbox()
    assert mail.to == "Alice@example.com"
    assert mail.link("/confirm/").startswith("/confirm/")
    assert all(link.startswith(BASE_URL + "/") for link in mail.links)
    assert "24 hours" in mail.text


def test_register_does_not_log_in(client):
    register(client)

    assert client.get("/profile").status_code == 302
    assert client.get("/profile").headers["Location"].startswith("/login")


def test_full_sign_up_confirm_login_reaches_profile(client, outbox, login):
    register(client)
    link = outbox()[0].link("/confirm/")

    assert client.get(link).status_code == 200
    confirmed = submit(client, link)
    login("alice@example.com")

    assert confirmed.headers["Location"] == "/login"
    assert client.get("/profile").status_code == 200
