"""Email change: proven by the new mailbox, undoable from the old one; typo fixes."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select, update

from flask_mailproof import signals
from flask_mailproof.addresses import Address
from flask_mailproof.clock import utcnow
from flask_mailproof.errors import TokenUsed
from flask_mailproof.flows import email_change
from flask_mailproof.state import current_state
from flask_mailproof.tokens import Purpose
from helpers import PASSWORD, csrf_token, submit


def ask_change(client, email, password=PASSWORD):
    return submit(client, "/change-email", {"email": email, "current_password": password})


def change_link(outbox, to):
    [mail] = [m for m in outbox(to) if m.kind == "email_change"][-1:]
    return mail.link("/change-email/")


def undo_link(outbox, to):
    [mail] = [m for m in outbox(to) if m.kind == "email_changed"][-1:]
    return mail.link("/change-email/undo/")


def press(client, link):
    """Open a mailed link's page and press its one button (or POST as if it had one)."""
    client.get(link)
    # The session's CSRF token, which every form carries, even where the page had no button.
    return client.post(link, data={"csrf_token": csrf_token(client.get("/register"))})


def token_of(link):
    return link.rstrip("/").rsplit("/", 1)[1]


def changed_alice(client, make_user, login, outbox):
    """Alice, logged in, moved from alice@ to alicia@ through the mailed link."""
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    press(client, change_link(outbox, "alicia@example.com"))


def test_anonymous_visitors_go_to_login(client):
    response = client.get("/change-email")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_request_mails_a_link_to_the_new_address(client, make_user, login, outbox):
    make_user("alice@example.com")
    login("alice@example.com")

    response = ask_change(client, "Alicia@Example.com")

    assert response.status_code == 302
    [mail] = outbox()
    assert mail.to == "Alicia@example.com"
    assert mail.link("/change-email/")
    assert "24 hours" in mail.text


def test_nothing_changes_until_the_click(app, client, make_user, login, outbox, get_user):
    make_user("alice@example.com")
    login("alice@example.com")

    ask_change(client, "alicia@example.com")
    client.get(change_link(outbox, "alicia@example.com"))

    assert get_user("alicia@example.com") is None
    assert get_user("alice@example.com") is not None
    other = app.test_client()
    assert (
        submit(other, "/login", {"email": "alice@example.com", "password": PASSWORD}).status_code
        == 302
    )


def test_a_wrong_password_is_refused(client, make_user, login, outbox):
    make_user("alice@example.com")
    login("alice@example.com")

    response = ask_change(client, "alicia@example.com", password="not my password, sorry")

    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)
    assert outbox() == []


def test_the_current_address_is_refused(client, make_user, login, outbox):
    make_user("alice@example.com")
    login("alice@example.com")

    assert ask_change(client, "alice@example.com").status_code == 422
    assert outbox() == []


def test_an_invalid_address_is_refused(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    assert ask_change(client, "not an address").status_code == 422


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_notice(
    client, make_user, login, outbox
):
    make_user("alice@example.com")
    make_user("Bob@example.com")
    login("alice@example.com")

    taken = ask_change(client, "bob@example.com")
    free = ask_change(client, "alicia@example.com")

    assert (taken.status_code, taken.headers["Location"]) == (
        free.status_code,
        free.headers["Location"],
    )
    [notice] = outbox("Bob@example.com")
    assert notice.kind == "email_change_taken"
    assert not [link for link in notice.links if "/change-email/" in link]


def test_the_link_shows_one_button_and_its_post_changes_the_address(
    client, make_user, login, outbox, get_user
):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    link = change_link(outbox, "alicia@example.com")

    shown = client.get(link)
    response = press(client, link)

    assert shown.status_code == 200
    assert shown.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Location"] == "/profile"
    assert get_user("alice@example.com") is None
    user = get_user("alicia@example.com")
    assert user.email == "alicia@example.com"
    assert user.confirmed_at is not None
    assert client.get("/profile").status_code == 200


def test_the_old_address_is_told_with_an_undo_link(client, make_user, login, outbox):
    changed_alice(client, make_user, login, outbox)

    [notice] = [m for m in outbox("alice@example.com") if m.kind == "email_changed"]
    assert "alicia@example.com" in notice.text
    assert "open this link within 24 hours" in notice.text
    assert notice.link("/change-email/undo/")


def test_the_link_works_for_its_account_whoever_is_logged_in(
    app, client, make_user, login, outbox, get_user
):
    alice = make_user("alice@example.com")
    make_user("bob@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    bob = app.test_client()
    submit(bob, "/login", {"email": "bob@example.com", "password": PASSWORD})

    response = press(bob, change_link(outbox, "alicia@example.com"))

    assert response.headers["Location"] == "/login"
    assert get_user("alicia@example.com").id == alice.id
    assert get_user("bob@example.com") is not None
    assert get_user("alice@example.com") is None


def test_two_pending_changes_cannot_be_crossed(client, make_user, login, outbox, get_user):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "first@example.com")
    ask_change(client, "second@example.com")
    first = change_link(outbox, "first@example.com")

    refused = press(client, first)
    press(client, change_link(outbox, "second@example.com"))

    assert refused.status_code == 410
    assert "newer" in refused.get_data(as_text=True)
    assert get_user("first@example.com") is None
    assert get_user("second@example.com") is not None


def test_a_used_link_is_refused(client, make_user, login, outbox, get_user):
    changed_alice(client, make_user, login, outbox)

    again = press(client, change_link(outbox, "alicia@example.com"))

    assert again.status_code == 410
    assert get_user("alicia@example.com") is not None


def test_a_tampered_link_is_refused(client, make_user, login, outbox, get_user):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    link = change_link(outbox, "alicia@example.com")
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    assert client.get(tampered).status_code == 404
    assert get_user("alice@example.com") is not None


def test_an_expired_link_is_refused(client, make_user, login, outbox, get_user):
    make_user("alice@example.com")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login("alice@example.com")
        ask_change(client, "alicia@example.com")
        link = change_link(outbox, "alicia@example.com")
        traveller.shift(86401)

        response = client.get(link)

    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert get_user("alicia@example.com") is None


def test_an_address_taken_before_the_click_gives_a_clear_page(
    client, make_user, login, outbox, get_user
):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    link = change_link(outbox, "alicia@example.com")
    make_user("Alicia@example.com")

    response = press(client, link)

    assert response.status_code == 409
    assert "taken" in response.get_data(as_text=True)
    assert get_user("alice@example.com") is not None


def test_the_unique_index_decides_a_race_for_the_address(
    client, make_user, login, outbox, get_user, monkeypatch
):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    link = change_link(outbox, "alicia@example.com")
    form = client.get(link)
    make_user("ALICIA@example.com")
    # The other account appeared after our check: only the database can tell.
    monkeypatch.setattr(email_change, "_other_account", lambda address, user: None)

    response = client.post(link, data={"csrf_token": csrf_token(form)})

    assert response.status_code == 409
    assert get_user("alice@example.com") is not None


def test_reset_links_for_the_old_address_die(app, client, make_user, login, outbox):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    stranger = app.test_client()
    submit(stranger, "/reset", {"email": "alice@example.com"})
    reset = next(m for m in outbox("alice@example.com") if m.kind == "reset").link("/reset/")

    press(client, change_link(outbox, "alicia@example.com"))

    assert stranger.get(reset, follow_redirects=True).status_code == 410


def test_reset_links_stay_dead_when_the_old_address_comes_back(
    app, client, make_user, login, outbox
):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    stranger = app.test_client()
    submit(stranger, "/reset", {"email": "alice@example.com"})
    reset = next(m for m in outbox("alice@example.com") if m.kind == "reset").link("/reset/")
    press(client, change_link(outbox, "alicia@example.com"))

    press(stranger, undo_link(outbox, "alice@example.com"))

    assert stranger.get(reset, follow_redirects=True).status_code == 410


def test_undo_puts_the_old_address_back_and_ends_every_session(
    app, client, make_user, login, outbox, get_user
):
    changed_alice(client, make_user, login, outbox)
    owner = app.test_client()
    link = undo_link(outbox, "alice@example.com")

    shown = owner.get(link)
    response = press(owner, link)

    assert shown.status_code == 200
    assert "alice@example.com" in shown.get_data(as_text=True)
    assert response.headers["Location"] == "/reset"
    assert get_user("alice@example.com").confirmed_at is not None
    assert get_user("alicia@example.com") is None
    assert client.get("/profile").status_code == 302


def test_undo_tells_the_app_which_address_came_back(app, client, make_user, login, outbox):
    changed_alice(client, make_user, login, outbox)
    received = []

    def receive(sender, **kwargs):
        received.append((sender, kwargs["user"].email, kwargs["old_email"], kwargs["new_email"]))

    with signals.email_changed.connected_to(receive):
        press(app.test_client(), undo_link(outbox, "alice@example.com"))

    assert received == [(app, "alice@example.com", "alicia@example.com", "alice@example.com")]


def test_undo_survives_a_new_password(client, make_user, login, outbox, get_user):
    changed_alice(client, make_user, login, outbox)
    new = "violet submarine orchestra pebble"
    submit(
        client,
        "/change-password",
        {"current_password": PASSWORD, "password": new, "password_confirm": new},
    )

    press(client, undo_link(outbox, "alice@example.com"))

    assert get_user("alice@example.com") is not None


def test_undo_kills_pending_change_links(client, make_user, login, outbox, get_user):
    changed_alice(client, make_user, login, outbox)
    ask_change(client, "thief@example.com")
    pending = change_link(outbox, "thief@example.com")

    press(client, undo_link(outbox, "alice@example.com"))

    assert client.get(pending).status_code == 410
    assert get_user("thief@example.com") is None


def test_change_links_from_the_address_undo_puts_back_stay_dead(
    client, make_user, login, outbox, get_user
):
    # Someone at Alice's open session asks for two changes and uses the later one. Both links
    # were made from alice@, which the undo brings back: the used one and the superseded one
    # must not come back to life with it, or they would take the account away again.
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "thief@example.com")
    superseded = change_link(outbox, "thief@example.com")
    ask_change(client, "thief2@example.com")
    used = change_link(outbox, "thief2@example.com")
    press(client, used)

    press(client, undo_link(outbox, "alice@example.com"))

    assert press(client, used).status_code == 410
    assert press(client, superseded).status_code == 410
    assert get_user("alice@example.com") is not None


def test_undo_kills_a_sign_in_link_made_before_the_change(app, client, make_user, login, outbox):
    # The change killed the link (it is bound to the address); the undo brings the address
    # back, and ends every way into the account made before it, as logging out everywhere does.
    make_user("alice@example.com")
    browser = app.test_client()
    submit(browser, "/login/email", {"email": "alice@example.com"})
    [sign_in] = [m.link("/login/email/") for m in outbox("alice@example.com")]
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    press(client, change_link(outbox, "alicia@example.com"))

    press(app.test_client(), undo_link(outbox, "alice@example.com"))

    assert press(browser, sign_in).status_code == 410
    assert browser.get("/api/me").get_json()["code"] == "not_authenticated"


def test_a_used_undo_link_is_refused(client, make_user, login, outbox):
    changed_alice(client, make_user, login, outbox)
    link = undo_link(outbox, "alice@example.com")
    press(client, link)

    assert client.get(link).status_code == 410


def test_undo_to_an_address_taken_since_gives_a_clear_page(
    client, make_user, login, outbox, get_user
):
    changed_alice(client, make_user, login, outbox)
    make_user("alice@example.com")

    response = press(client, undo_link(outbox, "alice@example.com"))

    assert response.status_code == 409
    assert get_user("alicia@example.com") is not None


def test_an_expired_undo_link_is_refused(client, make_user, login, outbox, get_user):
    with time_machine.travel(utcnow(), tick=False) as traveller:
        changed_alice(client, make_user, login, outbox)
        link = undo_link(outbox, "alice@example.com")
        traveller.shift(86401)

        response = client.get(link)

    assert response.status_code == 410
    assert get_user("alicia@example.com") is not None


def test_tokens_cross_no_purpose(app, client, make_user, login, outbox):
    make_user("alice@example.com")
    login("alice@example.com")
    ask_change(client, "alicia@example.com")
    change = token_of(change_link(outbox, "alicia@example.com"))
    submit(app.test_client(), "/reset", {"email": "alice@example.com"})
    reset = token_of(next(m for m in outbox() if m.kind == "reset").link("/reset/"))
    with app.app_context():
        tokens = current_state().tokens
        confirm = tokens.issue(Purpose.CONFIRM, {"u": 1, "o": "x", "e": "alicia@example.com"})
        contact = tokens.issue(Purpose.CONTACT, {"u": 1, "o": "alice@example.com"})

    for token in (reset, confirm, contact, change):
        assert client.get(f"/change-email/undo/{token}").status_code == 404
    for token in (reset, confirm, contact):
        assert client.get(f"/change-email/{token}").status_code == 404
    assert client.get(f"/confirm/{change}").status_code == 404


def test_the_signal_names_both_addresses(client, make_user, login, outbox):
    seen = []

    with signals.email_changed.connected_to(
        lambda sender, **kw: seen.append((kw["user"].email, kw["old_email"], kw["new_email"]))
    ):
        changed_alice(client, make_user, login, outbox)

    assert seen == [("alicia@example.com", "alice@example.com", "alicia@example.com")]


def test_the_profile_links_to_it(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    assert 'href="/change-email"' in client.get("/profile").get_data(as_text=True)


# Fixing a mistyped address before confirming.


def registered(client, login, email="alcie@example.com"):
    submit(
        client, "/register", {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
    )
    login(email)


def test_the_unconfirmed_page_offers_the_fix(client, login):
    registered(client, login)

    assert 'href="/change-email"' in client.get("/unconfirmed").get_data(as_text=True)


def test_the_fix_sends_a_link_to_the_corrected_address(client, login, outbox, get_user):
    registered(client, login)

    response = ask_change(client, "alice@example.com")

    assert response.headers["Location"] == "/unconfirmed"
    # Nothing moves until the corrected address's mailbox is proven.
    assert get_user("alcie@example.com").confirmed_at is None
    assert get_user("alice@example.com") is None
    press(client, change_link(outbox, "alice@example.com"))
    assert get_user("alcie@example.com") is None
    assert get_user("alice@example.com").confirmed_at is not None


def test_the_mistyped_address_gets_nothing_more_and_its_link_dies(client, login, outbox, get_user):
    registered(client, login)
    typo_link = outbox("alcie@example.com")[0].link("/confirm/")

    ask_change(client, "alice@example.com")

    assert len(outbox("alcie@example.com")) == 1
    assert press(client, typo_link).status_code == 410
    assert get_user("alcie@example.com").confirmed_at is None


def test_the_fix_kills_the_resent_links_to_the_mistyped_address_too(
    client, login, outbox, get_user
):
    # Every link mailed to the mistyped address dies with the fix, the first and a resent one
    # alike: its mailbox's owner, a stranger, must not confirm the account.
    with time_machine.travel(utcnow(), tick=False) as traveller:
        registered(client, login)
        traveller.shift(3600)
        client.post("/resend", data={"csrf_token": csrf_token(client.get("/unconfirmed"))})
        first, resent = [m.link("/confirm/") for m in outbox("alcie@example.com")]

        ask_change(client, "alice@example.com")

        assert press(client, first).status_code == 410
        assert press(client, resent).status_code == 410
    assert get_user("alcie@example.com").confirmed_at is None


def test_the_fix_sends_no_undo_link_to_the_mistyped_address(client, login, outbox):
    registered(client, login)

    ask_change(client, "alice@example.com")
    press(client, change_link(outbox, "alice@example.com"))

    # Nothing proved that the mistyped mailbox is the owner's: no link goes there.
    assert [m.kind for m in outbox("alcie@example.com")] == ["confirm"]


def test_the_fix_needs_the_password(client, login, outbox, get_user):
    registered(client, login)

    response = ask_change(client, "alice@example.com", password="not my password, sorry")

    assert response.status_code == 422
    assert get_user("alcie@example.com") is not None
    assert outbox("alice@example.com") == []


def test_the_fix_to_a_taken_address_answers_as_for_a_free_one(
    app, client, login, make_user, get_user, outbox
):
    make_user("alice@example.com")
    registered(client, login)

    taken = ask_change(client, "alice@example.com")
    other = app.test_client()
    registered(
        other,
        lambda email: submit(other, "/login", {"email": email, "password": PASSWORD}),
        email="bobb@example.com",
    )
    free = ask_change(other, "bob@example.com")

    assert (taken.status_code, taken.headers["Location"]) == (302, "/unconfirmed")
    assert (free.status_code, free.headers["Location"]) == (302, "/unconfirmed")
    assert get_user("alcie@example.com") is not None
    # The taken address's owner is told instead; no link that could move the account goes out.
    assert [m.kind for m in outbox("alice@example.com")] == ["email_change_taken"]


def test_a_move_changes_nothing_if_the_address_changed_since_it_was_read(app, make_user):
    # Two links of one account pressed at once: the one that read the account second loses.
    make_user("alice@example.com")
    with app.test_request_context():
        model = current_state().models.user
        user = (
            current_state()
            .db.session.scalars(select(model).filter_by(email="alice@example.com"))
            .one()
        )
        current_state().db.session.execute(
            update(model)
            .where(model.id == user.id)
            .values(email="first@example.com", email_key="first@example.com"),
            execution_options={"synchronize_session": False},  # the other request's write
        )

        with pytest.raises(TokenUsed):
            email_change._move(user, Address("second@example.com", "second@example.com"))


def test_a_superseded_reset_link_stays_dead_when_the_address_moves_away_and_back(
    app, client, make_user, login, outbox
):
    # Reset links compare their counter for equality: each move must push it forward. Were a
    # move to step it back, the first of three reset links would match again after the
    # address went away and came back, and reset the password of a superseded request.
    make_user("alice@example.com")
    login("alice@example.com")
    stranger = app.test_client()
    for _ in range(3):
        submit(stranger, "/reset", {"email": "alice@example.com"})
    first = next(m for m in outbox("alice@example.com") if m.kind == "reset").link("/reset/")
    ask_change(client, "alicia@example.com")
    press(client, change_link(outbox, "alicia@example.com"))

    press(stranger, undo_link(outbox, "alice@example.com"))

    assert stranger.get(first, follow_redirects=True).status_code == 410
