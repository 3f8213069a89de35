"""Key rotation: old links live while their key is in SECRET_KEY_FALLBACKS, and no longer."""

from __future__ import annotations

import pytest

from flask_mailproof.tokens import Purpose, Tokens
from helpers import PASSWORD, submit

OLD_KEY = "the-old-secret-key-0123456789-0123456789"
NEW_KEY = "the-new-secret-key-9876543210-9876543210"


def test_new_tokens_are_signed_with_the_current_key():
    token = Tokens(NEW_KEY, [OLD_KEY]).issue(Purpose.CONFIRM, {"u": 1})

    assert Tokens(NEW_KEY).read(Purpose.CONFIRM, token, 60) == {"u": 1}


@pytest.mark.app_config(SECRET_KEY=OLD_KEY)
def test_a_link_made_under_the_old_key_lives_only_while_it_is_a_fallback(
    app, another_app, client, outbox
):
    submit(
        client,
        "/register",
        {"email": "a@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    link = outbox()[0].link("/confirm/")
    rotated = another_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY])
    retired = another_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[])

    assert client.get(link).status_code == 200
    assert rotated.test_client().get(link).status_code == 200
    assert retired.test_client().get(link).status_code == 404


@pytest.mark.app_config(SECRET_KEY=OLD_KEY, MAILPROOF_RESEND_INTERVAL=0)
def test_links_mailed_after_rotation_need_no_fallback(app, another_app, make_user, outbox):
    make_user("a@example.com", confirmed=False)
    rotated = another_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY])
    retired = another_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[])

    submit(rotated.test_client(), "/resend", {"email": "a@example.com"})
    link = outbox()[0].link("/confirm/")

    assert retired.test_client().get(link).status_code == 200
