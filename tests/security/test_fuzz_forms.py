"""Fuzzing: generated values in every field of every form never cause a 5xx, and input that
is refused changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from demo.models import db, models
from helpers import FORM_OWNER, open_form, raw_post

FORMS = {
    "/register": ("email", "password", "password_confirm"),
    "/login": ("email", "password", "remember"),
    "/resend": ("email",),
    "/reset": ("email",),
    "/contact": ("name", "email", "message"),
    "/reset/set-password": ("password", "password_confirm"),
    "/change-password": ("current_password", "password", "password_confirm"),
    "/change-email": ("email", "current_password"),
}

#: Text (lone surrogates included), raw bytes, nothing, huge, and near-addresses.
VALUES = st.one_of(
    st.text().map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=64),
    st.just(b""),
    st.integers(min_value=255, max_value=5000).map(lambda n: b"\xf0\x9f\x92\xa9" * n),
    st.text(max_size=20).map(lambda s: f"{s}@example.com".encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\x00", b"\r\n", b"%0d%0a", b"{{7*7}}", b"<script>", b"a@b.c,d@e.f"]),
)

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def counts(app):
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(models.user))
        mails = db.session.scalar(select(func.count()).select_from(models.outbox))
        held = db.session.scalar(select(func.count()).select_from(models.contact_message))
        owner = db.session.execute(select(models.user.password_hash, models.user.email)).all()
        return users, mails, held, owner


@pytest.mark.app_config(RATELIMIT_ENABLED=False)
@pytest.mark.parametrize("url", FORMS)
def test_generated_input_never_breaks_a_form(app, make_user, url):
    make_user(FORM_OWNER)

    @FUZZ
    @given(st.fixed_dictionaries(dict.fromkeys(FORMS[url], VALUES)))
    def check(fields):
        before = counts(app)

        client = app.test_client()
        open_form(app, client, url)
        response = raw_post(client, url, fields)

        assert response.status_code < 500
        if response.status_code != 302:
            assert counts(app) == before

    check()
