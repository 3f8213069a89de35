"""The development mailbox at ``/_mail``: on in debug or with the setting, 404 otherwise."""

from __future__ import annotations

import html
import re

import pytest

from demo.models import db, models
from helpers import register, submit


@pytest.mark.parametrize(
    ("debug", "setting", "served"),
    [
        (True, None, True),
        (False, None, False),
        (False, True, True),
        (True, False, False),
    ],
)
def test_mailbox_is_served_only_in_debug_or_with_the_setting(
    config, request, debug, setting, served
):
    config["DEBUG"] = debug
    if setting is None:
        del config["MAILPROOF_DEV_MAILBOX"]
    else:
        config["MAILPROOF_DEV_MAILBOX"] = setting
    client = request.getfixturevalue("client")
    register(client)

    assert client.get("/_mail").status_code == (200 if served else 404)
    assert client.get("/_mail/1").status_code == (200 if served else 404)
    assert client.get("/_mail/1/html").status_code == (200 if served else 404)


def test_mailbox_lists_mails_newest_first(app, client, make_user):
    make_user("taken@example.com")
    register(client)
    register(client, "taken@example.com")

    page = client.get("/_mail").text

    first = page.index("alice@example.com")
    second = page.index("taken@example.com")
    assert second < first
    assert "Confirm your email address" in page
    assert "Someone tried to sign up with your address" in page


def _open_first_mail(client):
    listing = client.get("/_mail").text
    href = re.search(r'href="(/_mail/\d+)"', listing)[1]
    return client.get(href)


def test_mail_page_shows_text_html_and_links(client, outbox):
    register(client)
    [mail] = outbox()

    response = _open_first_mail(client)

    assert response.status_code == 200
    page = response.text
    link = mail.links[0]
    assert f'<a href="{link}">{link}</a>' in page
    assert '<pre class="mail-text">' in page
    assert html.escape(mail.text.splitlines()[0]) in page
    srcdoc = re.search(r'<iframe [^>]*sandbox="[^"]*" srcdoc="([^"]*)"', page)[1]
    assert "<h1" in html.unescape(srcdoc)
    assert "Confirm your email address" in html.unescape(srcdoc)
    assert "<h1 style" not in srcdoc, "the HTML part is escaped into the sandboxed frame"


def test_mail_page_shows_the_headers(client):
    register(client)

    page = _open_first_mail(client).text

    assert "<dt>To</dt><dd>alice@example.com</dd>" in page
    assert "<dt>Subject</dt><dd>Confirm your email address</dd>" in page


def test_unknown_mail_is_a_404(client):
    assert client.get("/_mail/999").status_code == 404
    assert client.get("/_mail/999/html").status_code == 404


def test_preview_opens_links_at_the_top_level(client):
    register(client)

    page = _open_first_mail(client).text

    srcdoc = html.unescape(re.search(r'<iframe [^>]*srcdoc="([^"]*)"', page)[1])
    assert re.search(r"<head>\s*<base target=\"_top\">", srcdoc)
    alone = client.get("/_mail/1/html").text
    assert re.search(r"<head>\s*<base target=\"_top\">", alone)


def test_status_says_the_mail_was_only_shown_here(client):
    register(client)

    assert "<td>shown here (not sent)</td>" in client.get("/_mail").text
    assert "<dt>Status</dt><dd>shown here (not sent)</dd>" in _open_first_mail(client).text


@pytest.mark.app_config(MAIL_SERVER="mail.example", MAIL_PORT=587)
@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("pending", "waiting to be sent to mail.example:587"),
        ("sent", "sent to mail.example:587"),
        ("failed", "not sent: mail.example:587 refused it or could not be reached"),
    ],
)
def test_status_names_the_mail_server(app, client, status, said):
    register(client)
    with app.app_context():
        row = db.session.get(models.outbox, 1)
        row.status = status
        db.session.commit()

    assert f"<td>{said}</td>" in client.get("/_mail").text
    assert f"<dt>Status</dt><dd>{said}</dd>" in client.get("/_mail/1").text


def test_status_is_german_on_german_pages(client):
    register(client)

    page = client.get("/_mail", headers={"Accept-Language": "de"}).text

    assert "<td>hier angezeigt (nicht versandt)</td>" in page


def test_link_from_the_mailbox_confirms(client, get_user):
    register(client)
    page = _open_first_mail(client).text
    link = re.search(r'<a href="https://mailproof.test(/confirm/[^"]+)"', page)[1]

    submit(client, link)

    assert get_user("alice@example.com").confirmed_at is not None


def test_a_mail_without_html_shows_no_preview(app, client):
    register(client)
    with app.app_context():
        row = db.session.get(models.outbox, 1)
        row.raw = "To: alice@example.com\nSubject: Plain\nContent-Type: text/plain\n\nJust text.\n"
        db.session.commit()

    page = client.get("/_mail/1").text

    assert "Just text." in page
    assert "<iframe" not in page
    assert client.get("/_mail/1/html").status_code == 404
