"""``next`` after login goes only to same-site paths."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from helpers import PASSWORD, submit

HOSTILE_NEXT = [
    "//evil.example",
    # No netloc for urlsplit, yet browsers resolve them to https://evil.example/: the check of
    # a leading "//" refuses them (the last one, the backslash check too).
    "///evil.example",
    "////evil.example",
    "///\\evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "https:evil.example",
    "https://evil.example/",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/\r/evil.example",
    "/\n/evil.example",
    " //evil.example",
]


@pytest.fixture
def alice(make_user):
    return make_user("alice@example.com")


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_ignores_a_next_that_leaves_the_site(client, target):
    url = f"/login?next={quote(target, safe='')}"

    response = submit(client, url, {"email": "alice@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_page_does_not_carry_a_hostile_next_into_its_form(client, target):
    page = client.get(f"/login?next={quote(target, safe='')}").get_data(as_text=True)

    assert "evil.example" not in page
    assert "javascript" not in page


@pytest.mark.usefixtures("alice")
def test_login_follows_a_same_site_next(client):
    url = f"/login?next={quote('/profile?tab=1', safe='')}"

    response = submit(client, url, {"email": "alice@example.com", "password": PASSWORD})

    assert response.headers["Location"] == "/profile?tab=1"
