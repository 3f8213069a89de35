"""The ``flask mailproof`` commands."""

from __future__ import annotations

import datetime as dt

import pytest

from demo.models import db, models
from flask_mailproof import unconfirmed_user_purged
from flask_mailproof.flows.administration import purge_unconfirmed
from flask_mailproof.flows.statistics import summarise
from helpers import PASSWORD, register

NEW_PASSWORD = "a password the operator chose 4711"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args, **kwargs):
        return runner.invoke(args=["mailproof", *args], **kwargs)

    return invoke


@pytest.fixture
def add_user(app, make_user):
    """Create an account registered (and maybe confirmed) at given times."""

    def add(address, registered, confirmed=None):
        make_user(address, confirmed=False, registered_at=registered)
        with app.app_context():
            user = db.session.scalars(db.select(models.user).filter_by(email=address)).one()
            user.confirmed_at = confirmed
            db.session.commit()

    return add


def test_create_admin_creates_a_confirmed_administrator(cli, get_user, login, client):
    result = cli("create-admin", "--email", "root@example.com", "--password", PASSWORD)

    assert result.exit_code == 0, result.output
    assert "root@example.com is an administrator" in result.output
    user = get_user("root@example.com")
    assert user.is_admin is True
    assert user.confirmed_at is not None
    login("root@example.com")
    assert client.get("/profile").status_code == 200


def test_a_new_administrator_is_registered_and_confirmed_in_one_instant(cli, get_user):
    cli("create-admin", "--email", "root@example.com", "--password", PASSWORD)

    user = get_user("root@example.com")
    assert user.registered_at == user.confirmed_at
    assert len(user.session_stamp) == 32
    assert (user.confirm_counter, user.reset_counter) == (0, 0)


def test_create_admin_refuses_a_password_made_of_the_address(cli, get_user):
    result = cli(
        "create-admin", "--email", "root.admin@example.com", "--password", "RootAdmin@Example.com"
    )

    assert result.exit_code == 2
    assert "Do not make your password out of your email address." in result.output
    assert get_user("root.admin@example.com") is None


def test_create_admin_promotes_an_existing_account(cli, make_user, get_user):
    make_user("alice@example.com", confirmed=False)

    result = cli("create-admin", "--email", "alice@example.com", "--password", PASSWORD)

    assert result.exit_code == 0, result.output
    assert get_user("alice@example.com").is_admin is True
    assert get_user("alice@example.com").confirmed_at is not None


def test_create_admin_ends_the_sessions_of_an_account_it_re_passwords(
    app, cli, make_user, login, client
):
    # The operator may be taking the account back: whoever is signed in as it is signed out,
    # as after a password change or a reset.
    make_user("alice@example.com")
    login("alice@example.com")
    assert client.get("/profile").status_code == 200

    result = cli("create-admin", "--email", "alice@example.com", "--password", NEW_PASSWORD)

    assert result.exit_code == 0, result.output
    assert client.get("/profile").status_code == 302
    assert login("alice@example.com", NEW_PASSWORD).status_code == 302


def test_create_admin_refuses_a_weak_password_with_the_reason(cli, get_user):
    result = cli("create-admin", "--email", "root@example.com", "--password", "short")

    assert result.exit_code == 2
    assert "at least 15 characters" in result.output
    assert get_user("root@example.com") is None


def test_create_admin_refuses_an_invalid_address(cli):
    result = cli("create-admin", "--email", "not an address", "--password", PASSWORD)

    assert result.exit_code == 2


def test_create_admin_prompts_for_what_is_missing(cli, get_user):
    result = cli("create-admin", input=f"root@example.com\n{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert get_user("root@example.com").is_admin is True
    assert PASSWORD not in result.output


def test_users_lists_accounts_with_their_confirmation_state(cli, add_user):
    add_user("done@example.com", dt.datetime(2026, 1, 5, 10), dt.datetime(2026, 1, 5, 10, 3))
    add_user("waiting@example.com", dt.datetime(2026, 1, 6, 9))

    result = cli("users")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    waiting = next(line for line in lines if "waiting@example.com" in line)
    done = next(line for line in lines if "done@example.com" in line)
    assert lines.index(waiting) < lines.index(done), "newest first"
    assert "2026-01-06 09:00:00" in waiting
    assert " - " in waiting
    assert "2026-01-05 10:00:00  2026-01-05 10:03:00" in done
    assert lines[-1] == "2 account(s)"


def test_users_limit_lists_the_newest_only(cli, add_user):
    for day in (5, 6, 7):
        add_user(f"day{day}@example.com", dt.datetime(2026, 1, day))

    result = cli("users", "--limit", "2")

    assert [line.split()[-1] for line in result.output.splitlines()[1:-1]] == [
        "day7@example.com",
        "day6@example.com",
    ]
    assert result.output.splitlines()[-1] == "2 account(s)"


def test_users_of_one_instant_list_the_later_sign_up_first(cli, add_user):
    for name in ("first", "second", "third"):
        add_user(f"{name}@example.com", dt.datetime(2026, 1, 5, 10))

    result = cli("users", "--limit", "2")

    emails = [line.split()[-1] for line in result.output.splitlines()[1:-1]]
    assert emails == ["third@example.com", "second@example.com"]


def test_users_are_listed_by_when_they_registered_not_by_when_they_were_stored(cli, add_user):
    # An account moved in from an older system keeps its registration time; so does one whose
    # sign-up committed after a later one's (the database gives ids in the order of writing).
    add_user("recent@example.com", dt.datetime(2026, 1, 7))
    add_user("imported@example.com", dt.datetime(2025, 6, 1))

    result = cli("users", "--limit", "1")

    assert [line.split()[-1] for line in result.output.splitlines()[1:-1]] == ["recent@example.com"]


def test_summarise_gives_median_and_p90_time_to_confirm():
    start = dt.datetime(2026, 1, 5, 10)
    rows = [(start, start + dt.timedelta(minutes=m)) for m in range(1, 11)] + [(start, None)]

    week = summarise(rows, "2026-W02")

    assert week.registered == 11
    assert week.confirmed == 10
    assert week.median_seconds == 330
    assert week.p90_seconds == pytest.approx(546)
    assert week.share_confirmed == pytest.approx(10 / 11)


def test_summarise_an_empty_week():
    week = summarise([], "2026-W02")

    assert (week.registered, week.confirmed, week.median_seconds, week.p90_seconds) == (
        0,
        0,
        None,
        None,
    )
    assert week.share_confirmed == 0


def test_stats_prints_one_row_per_registration_week_and_a_total(cli, add_user):
    monday = dt.datetime(2026, 1, 5, 10)  # ISO week 2026-W02
    for minutes in range(1, 11):
        add_user(f"w2-{minutes}@example.com", monday, monday + dt.timedelta(minutes=minutes))
    next_week = dt.datetime(2026, 1, 13, 8)  # 2026-W03
    add_user("w3-a@example.com", next_week, next_week + dt.timedelta(hours=3))
    add_user("w3-b@example.com", next_week)

    result = cli("stats")

    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert rows["2026-W02"] == ["2026-W02", "10", "10", "100.0%", "5.5m", "9.1m"]
    assert rows["2026-W03"] == ["2026-W03", "2", "1", "50.0%", "3.0h", "3.0h"]
    assert rows["all"][:4] == ["all", "12", "11", "91.7%"]
    assert list(rows) == ["2026-W02", "2026-W03", "all"]


def test_stats_with_no_accounts(cli):
    result = cli("stats")

    assert result.exit_code == 0
    assert result.output.splitlines()[-1].split() == ["all", "0", "0", "0.0%", "-", "-"]


@pytest.fixture
def stale(add_user, time_machine):
    time_machine.move_to("2026-02-20 12:00:00", tick=False)
    add_user("old-waiting@example.com", dt.datetime(2026, 2, 10))
    add_user("old-done@example.com", dt.datetime(2026, 2, 10), dt.datetime(2026, 2, 10, 1))
    add_user("new-waiting@example.com", dt.datetime(2026, 2, 19))


@pytest.fixture
def purged_signals(app):
    received = []

    def receive(sender, **kwargs):
        received.append((sender, kwargs))

    unconfirmed_user_purged.connect(receive)
    yield received
    unconfirmed_user_purged.disconnect(receive)


def test_purge_dry_run_lists_but_deletes_nothing(cli, stale, get_user, purged_signals):
    result = cli("purge-unconfirmed", "--older-than", "7", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "old-waiting@example.com" in result.output
    assert "new-waiting@example.com" not in result.output
    assert "old-done@example.com" not in result.output
    assert "1 never-confirmed account(s) would be deleted." in result.output
    assert get_user("old-waiting@example.com") is not None
    assert purged_signals == []


def test_purge_deletes_only_old_unconfirmed_accounts(cli, stale, get_user):
    result = cli("purge-unconfirmed", "--older-than", "7")

    assert result.exit_code == 0, result.output
    assert "1 never-confirmed account(s) deleted." in result.output
    assert get_user("old-waiting@example.com") is None
    assert get_user("old-done@example.com") is not None
    assert get_user("new-waiting@example.com") is not None


def test_purge_sends_a_signal_per_deleted_account(app, cli, stale, purged_signals):
    cli("purge-unconfirmed", "--older-than", "0")

    assert sorted(kwargs["email"] for _, kwargs in purged_signals) == [
        "new-waiting@example.com",
        "old-waiting@example.com",
    ]
    assert all(sender is app for sender, _ in purged_signals)
    assert all(isinstance(kwargs["user_id"], int) for _, kwargs in purged_signals)


def test_purged_address_can_register_again(cli, stale, client, get_user, time_machine):
    old_id = get_user("old-waiting@example.com").id
    cli("purge-unconfirmed", "--older-than", "7")

    register(client, "old-waiting@example.com")

    assert get_user("old-waiting@example.com").id != old_id


def test_purge_keeps_an_account_registered_exactly_at_the_cutoff(cli, add_user, time_machine):
    time_machine.move_to(
        "2026-02-20 12:00:00", tick=False
    )  # "older than 7 days": before 02-13 12:00
    add_user("at-cutoff@example.com", dt.datetime(2026, 2, 13, 12))
    add_user("a-second-older@example.com", dt.datetime(2026, 2, 13, 11, 59, 59))

    result = cli("purge-unconfirmed", "--older-than", "7", "--dry-run")

    assert "a-second-older@example.com" in result.output
    assert "at-cutoff@example.com" not in result.output


def test_purge_lists_accounts_in_the_order_they_were_stored(cli, app):
    # A fixed order, whatever the database's plan. Without one, PostgreSQL answers in the
    # order of its table on disk, where an account written to since (here: a link resent)
    # has moved from its full first page behind the later accounts. SQLite keeps rows in id
    # order, so there this passes either way.
    with app.app_context():
        for n in range(100):
            address = f"user{n:03}@example.com"
            db.session.add(
                models.user(email=address, email_key=address, registered_at=dt.datetime(2026, 1, 5))
            )
        db.session.commit()
        first = db.session.scalars(db.select(models.user).order_by(models.user.id)).first()
        first.confirmation_sent_at = dt.datetime(2026, 1, 6)
        db.session.commit()

    result = cli("purge-unconfirmed", "--older-than", "0", "--dry-run")

    listed = [line.split()[-1] for line in result.output.splitlines()[:-1]]
    assert listed == [f"user{n:03}@example.com" for n in range(100)]


def test_purge_refuses_a_negative_age_in_its_own_words(app):
    with (
        app.app_context(),
        pytest.raises(ValueError, match=r"^older_than_days must not be negative$"),
    ):
        purge_unconfirmed(-1, dry_run=True)


@pytest.mark.parametrize("args", [[], ["--older-than", "-1"], ["--older-than", "soon"]])
def test_purge_needs_a_sensible_age(cli, args):
    assert cli("purge-unconfirmed", *args).exit_code == 2
