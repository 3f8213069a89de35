"""No account enumeration: the same answer, byte for byte and in time, for every address."""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import json
import re
import statistics
import time

import argon2
import pytest
import time_machine
from flask_login import current_user
from sqlalchemy import event

from demo.models import db, models
from flask_mailproof import mark_undeliverable
from flask_mailproof.clock import utcnow
from flask_mailproof.state import current_state
from flask_mailproof.tokens import Purpose
from helpers import PASSWORD, csrf_token, parse_mail, session_of, submit, without_csrf

WRONG = "not the password at all"

#: The three kinds of address an attacker probes with.
KINDS = {
    "confirmed": "known@example.com",
    "unconfirmed": "pending@example.com",
    "unknown": "nobody@example.com",
}


@pytest.fixture
def accounts(make_user):
    make_user(KINDS["confirmed"])
    make_user(KINDS["unconfirmed"], confirmed=False)


def cookies_shape(response):
    """Return the Set-Cookie headers with their values blanked."""
    return sorted(
        f"{header.split('=', 1)[0]}={header.split(';', 1)[1] if ';' in header else ''}"
        for header in response.headers.getlist("Set-Cookie")
    )


def session_shape(app, response, email):
    """Return the session an answer set, minus its per-session CSRF token, and with the sign-up
    receipt's value reduced to its length: a digest of a freshly salted hash, as random for a
    new address as for a known one (whether it is there at all, and its shape, are compared).
    The address the browser signed up with is kept for it to be shown back, as the form shows
    it: the typed address becomes ``ADDRESS``, the moment of the request its type."""
    session = session_of(app, response)
    if session is not None:
        session.pop("csrf_token", None)
        if "mailproof_signup" in session:
            session["mailproof_signup"] = len(session["mailproof_signup"])
        # The sign-in device nonce: random per browser, known address or not.
        if "mailproof_login_device" in session:
            session["mailproof_login_device"] = len(session["mailproof_login_device"])
        if "mailproof_signup_address" in session:
            typed, stamp = session["mailproof_signup_address"]
            session["mailproof_signup_address"] = [
                "ADDRESS" if typed == email else typed,
                type(stamp).__name__,
            ]
    return session


def answer(app, client, response, email):
    """Return everything an attacker sees of an answer, minus the per-session CSRF token and
    the address they typed, which the form shows back."""
    session = session_shape(app, response, email)
    followed = client.get(response.headers["Location"]) if response.status_code == 302 else None

    def body(page):
        return without_csrf(page.get_data()).replace(email.encode(), b"ADDRESS")

    return (
        response.status_code,
        response.headers.get("Location"),
        body(response),
        cookies_shape(response),
        session,
        body(followed) if followed is not None else None,
    )


def answers(app, url, data_for):
    found = {}
    # One instant for every kind: a page that names when the next link may go ("at 19:05
    # UTC") would otherwise differ whenever the requests straddle a minute, whoever asked.
    with time_machine.travel(utcnow(), tick=False):
        for kind, email in KINDS.items():
            client = app.test_client()
            found[kind] = answer(app, client, submit(client, url, data_for(email)), email)
    return found


def assert_all_alike(found):
    first = found["unknown"]
    for kind, seen in found.items():
        assert seen == first, f"{kind} answers differently from an unknown address"


@pytest.mark.usefixtures("accounts")
def test_login_answers_alike_for_every_address(app):
    found = answers(app, "/login", lambda email: {"email": email, "password": WRONG})

    assert found["unknown"][0] == 422
    assert_all_alike(found)


@pytest.mark.usefixtures("accounts")
def test_registration_answers_alike_for_every_address(app):
    found = answers(
        app,
        "/register",
        lambda email: {"email": email, "password": PASSWORD, "password_confirm": PASSWORD},
    )

    assert found["unknown"][0] == 302
    assert_all_alike(found)


@pytest.mark.usefixtures("accounts")
def test_resend_answers_alike_for_every_address(app):
    found = answers(app, "/resend", lambda email: {"email": email})

    assert found["unknown"][0] == 302
    assert_all_alike(found)


@pytest.mark.usefixtures("accounts")
# No resend interval: only the per-address limit stands between the two requests' mails.
@pytest.mark.app_config(MAILPROOF_RESEND_INTERVAL=0)
def test_resend_answers_alike_once_the_address_limit_is_used_up(app, outbox):
    submit(app.test_client(), "/resend", {"email": KINDS["unconfirmed"]})
    assert len(outbox(KINDS["unconfirmed"])) == 1

    found = answers(app, "/resend", lambda email: {"email": email})

    assert_all_alike(found)
    # The limit was in force: the second request mailed nothing.
    assert len(outbox(KINDS["unconfirmed"])) == 1


TIMING = pytest.mark.app_config(RATELIMIT_ENABLED=False)
ROUNDS = 50


def median_times(app, url, data_by_kind):
    """Time ``ROUNDS`` POSTs per kind, alternating kinds; return each kind's median.

    The kinds swap places every round and the garbage collector waits, so neither a pause nor
    the order falls on one kind more than the other.
    """
    clients = {kind: app.test_client() for kind in data_by_kind}
    tokens = {kind: csrf_token(c.get(url)) for kind, c in clients.items()}
    times = {kind: [] for kind in data_by_kind}
    gc.collect()
    gc.disable()
    try:
        for n in range(ROUNDS + 3):
            kinds = list(data_by_kind)[:: 1 if n % 2 else -1]
            for kind in kinds:
                data = {"csrf_token": tokens[kind], **data_by_kind[kind](n)}
                start = time.perf_counter()
                response = clients[kind].post(url, data=data)
                elapsed = time.perf_counter() - start
                assert response.status_code < 500
                if n >= 3:  # the first rounds warm caches up
                    times[kind].append(elapsed)
    finally:
        gc.enable()
    return {kind: statistics.median(values) for kind, values in times.items()}


def close(medians):
    return max(medians.values()) <= min(medians.values()) * 1.2


def assert_same_time(app, url, data_by_kind):
    """Assert the medians are within 20% of each other.

    Other processes share the CPU, so one run may be disturbed; a real difference (a skipped
    hash, a write only known addresses make) shows in every run, so three runs are allowed.
    """
    runs = []
    for _ in range(3):
        runs.append(median_times(app, url, data_by_kind))
        if close(runs[-1]):
            return
    raise AssertionError(f"medians differ by more than 20% in every run: {runs}")


#: argon2 as costly as a small production setting, so a skipped hash would show: at the suite's
#: cheap cost one hash is inside the 20% tolerance.
HASHED_AS_IN_PRODUCTION = pytest.mark.app_config(
    RATELIMIT_ENABLED=False, MAILPROOF_ARGON2_MEMORY_COST=8192, MAILPROOF_ARGON2_TIME_COST=2
)


@HASHED_AS_IN_PRODUCTION
@pytest.mark.usefixtures("accounts")
def test_login_takes_as_long_for_unknown_addresses(app):
    assert_same_time(
        app,
        "/login",
        {
            "known": lambda n: {"email": KINDS["confirmed"], "password": WRONG},
            "unknown": lambda n: {"email": KINDS["unknown"], "password": WRONG},
        },
    )


@HASHED_AS_IN_PRODUCTION
@pytest.mark.usefixtures("accounts")
def test_registration_takes_as_long_for_existing_addresses(app):
    fresh = itertools.count()

    def registration(email):
        return {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}

    assert_same_time(
        app,
        "/register",
        {
            "confirmed": lambda n: registration(KINDS["confirmed"]),
            # Its link went out moments ago, so no mail: the same work is done regardless.
            "unconfirmed": lambda n: registration(KINDS["unconfirmed"]),
            "new": lambda n: registration(f"new{next(fresh)}@example.com"),
        },
    )


@pytest.mark.usefixtures("accounts")
@pytest.mark.parametrize(
    "kind", ["new", "unconfirmed", "unconfirmed, signed up for again", "confirmed"]
)
def test_every_registration_hashes_the_password_exactly_once(app, monkeypatch, kind):
    """Count the hashes rather than time them: a skipped hash for a known address is an
    enumeration oracle however cheap the suite's hash parameters make it."""
    email = {"new": "new@example.com", "confirmed": KINDS["confirmed"]}.get(
        kind, KINDS["unconfirmed"]
    )
    hashes = []
    real_hash = argon2.PasswordHasher.hash

    def counting_hash(hasher, *args, **kwargs):
        hashes.append(email)
        return real_hash(hasher, *args, **kwargs)

    client = app.test_client()
    data = {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
    if kind == "unconfirmed, signed up for again":
        submit(client, "/register", data)
    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting_hash)

    response = submit(client, "/register", data)

    assert response.status_code == 302
    assert hashes == [email]


@pytest.mark.app_config(RATELIMIT_ENABLED=False, MAILPROOF_RESEND_INTERVAL=0)
@pytest.mark.usefixtures("accounts")
def test_resend_takes_as_long_for_unknown_addresses(app):
    """With no resend interval the unconfirmed account gets a link every round: the sending
    path is the one timed against an unknown address, not a rate-limited one."""
    assert_same_time(
        app,
        "/resend",
        {
            "unconfirmed": lambda n: {"email": KINDS["unconfirmed"]},
            "unknown": lambda n: {"email": KINDS["unknown"]},
        },
    )


@pytest.mark.usefixtures("accounts")
def test_reset_request_answers_alike_for_every_address(app):
    found = answers(app, "/reset", lambda email: {"email": email})

    assert found["unknown"][0] == 302
    assert_all_alike(found)


@TIMING
@pytest.mark.usefixtures("accounts")
def test_reset_request_takes_as_long_for_unknown_addresses(app):
    assert_same_time(
        app,
        "/reset",
        {kind: lambda n, email=email: {"email": email} for kind, email in KINDS.items()},
    )


@pytest.mark.usefixtures("accounts")
def test_sign_in_link_request_answers_alike_for_every_address(app):
    found = answers(app, "/login/email", lambda email: {"email": email})

    assert found["unknown"][0] == 302
    assert_all_alike(found)


@pytest.mark.usefixtures("accounts")
@pytest.mark.app_config(MAILPROOF_PASSWORDLESS_SIGNUP=True)
def test_sign_in_link_request_answers_alike_where_unknown_addresses_get_a_sign_up_link(app):
    found = answers(app, "/login/email", lambda email: {"email": email})

    assert found["unknown"][0] == 302
    assert_all_alike(found)


@TIMING
@pytest.mark.usefixtures("accounts")
def test_sign_in_link_request_takes_as_long_for_unknown_addresses(app):
    assert_same_time(
        app,
        "/login/email",
        {kind: lambda n, email=email: {"email": email} for kind, email in KINDS.items()},
    )


@pytest.mark.app_config(RATELIMIT_ENABLED=False, MAILPROOF_VERIFICATION_CODES="with_link")
@pytest.mark.usefixtures("accounts")
def test_sign_in_link_request_with_codes_takes_as_long_for_unknown_addresses(app):
    # A known address also gets a code (a DELETE, a MAC, an INSERT): the decoy does the same.
    assert_same_time(
        app,
        "/login/email",
        {kind: lambda n, email=email: {"email": email} for kind, email in KINDS.items()},
    )


API_CALLS = {
    "/api/register": lambda email: {"email": email, "password": PASSWORD},
    "/api/login": lambda email: {"email": email, "password": WRONG},
    "/api/reset-request": lambda email: {"email": email},
    "/api/login/email": lambda email: {"email": email},
}


@pytest.mark.usefixtures("accounts")
@pytest.mark.parametrize("url", API_CALLS)
def test_the_api_answers_alike_for_every_address(app, url):
    found = {}
    for kind, email in KINDS.items():
        client = app.test_client()
        token = client.get("/api/csrf").get_json()["csrf_token"]
        response = client.post(url, json=API_CALLS[url](email), headers={"X-CSRFToken": token})
        session = session_shape(app, response, email)
        found[kind] = (
            response.status_code,
            sorted((k, v) for k, v in response.headers.items() if k != "Set-Cookie"),
            response.get_data().replace(email.encode(), b"ADDRESS"),
            cookies_shape(response),
            session,
        )

    assert found["unknown"][0] in (202, 401)
    assert_all_alike(found)


@pytest.mark.app_config(MAILPROOF_DELIVERY="thread", MAILPROOF_DELIVERY_INTERVAL=3600)
def test_mail_written_by_a_request_wakes_delivery_only_once_the_answer_is_sent(
    app, client, make_user, stop_delivery
):
    # A delivery run woken mid-request competes with it for the GIL, so a known address (a
    # real mail) answered measurably slower than an unknown one (a decoy).
    make_user(KINDS["confirmed"])
    wakes: list[object] = []
    woken_before_answer: list[int] = []

    @app.after_request
    def count_wakes(response):
        woken_before_answer.append(len(wakes))
        return response

    token = csrf_token(client.get("/reset"))  # starts this process's delivery thread
    thread = app.extensions["mailproof"].delivery_thread
    thread.wake = lambda *ids: wakes.append(ids)
    woken_before_answer.clear()

    response = client.post("/reset", data={"csrf_token": token, "email": KINDS["confirmed"]})

    assert response.status_code == 302
    assert woken_before_answer == [0]
    response.close()  # the server has sent the answer
    assert len(wakes) == 1


def wrong_code_answers(app, path, body, tries):
    """Return (status, body) of ``tries`` wrong codes posted to ``path`` from one client."""
    client = app.test_client()
    token = client.get("/api/csrf").get_json()["csrf_token"]
    found = []
    for _ in range(tries):
        response = client.post(path, json=body, headers={"X-CSRFToken": token})
        found.append((response.status_code, response.get_json()))
    return found


#: Each code endpoint: the call that mails its code, its body, and the body of a wrong try.
CODE_CALLS = {
    "/api/confirm-code": (
        "/api/register",
        {"password": PASSWORD},
        lambda email, code: {"email": email, "code": code},
    ),
    "/api/reset-code": (
        "/api/reset-request",
        {},
        lambda email, code: {"email": email, "code": code, "password": PASSWORD + " again"},
    ),
}


# The failed-login limits are off here: they answer alike anyway (the per-address lock after
# five failures ends in five minutes), and would hide what the code's own count answers.
@pytest.mark.app_config(
    MAILPROOF_VERIFICATION_CODES="with_link",
    MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="",
    MAILPROOF_LIMIT_LOGIN_FAILURES_PER_ADDRESS="",
)
@pytest.mark.parametrize("path", CODE_CALLS)
def test_a_code_past_its_tries_answers_like_an_unknown_address(app, make_user, outbox, path):
    mailing_call, mailing_body, body = CODE_CALLS[path]
    if mailing_call == "/api/reset-request":
        make_user("known@example.com")
    client = app.test_client()
    token = client.get("/api/csrf").get_json()["csrf_token"]
    for email in ("known@example.com", "nobody@example.com"):
        client.post(
            mailing_call,
            json={"email": email, **mailing_body},
            headers={"X-CSRFToken": token},
        )
    [mail] = outbox("known@example.com")
    code = re.search(r"^\s+(\d{6})\s*$", mail.text, re.MULTILINE).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    known = wrong_code_answers(app, path, body("known@example.com", wrong), 7)
    unknown = wrong_code_answers(app, path, body("nobody@example.com", wrong), 7)

    assert known == unknown
    assert {status for status, _ in known} == {400}


@pytest.fixture
def passwordless_account(make_user):
    make_user("nopass@example.com", password=None)
    make_user(KINDS["confirmed"])


@pytest.mark.usefixtures("passwordless_account")
def test_login_answers_an_account_without_a_password_as_a_wrong_password(app):
    """Byte for byte: nobody learns which accounts sign in by mail only."""
    found = {}
    for kind, email in {"unknown": "nopass@example.com", "wrong": KINDS["confirmed"]}.items():
        client = app.test_client()
        data = {"email": email, "password": WRONG}
        found[kind] = answer(app, client, submit(client, "/login", data), email)

    assert found["unknown"][0] == 422
    assert found["wrong"] == found["unknown"]


@HASHED_AS_IN_PRODUCTION
@pytest.mark.usefixtures("passwordless_account")
def test_login_takes_as_long_for_an_account_without_a_password(app):
    """The dummy hash is verified for it, as for an unknown address: no skipped hash shows."""
    assert_same_time(
        app,
        "/login",
        {
            "wrong password": lambda n: {"email": KINDS["confirmed"], "password": WRONG},
            "no password": lambda n: {"email": "nopass@example.com", "password": WRONG},
        },
    )


def statements_of(app, client, url, email):
    """Return the SQL a POST of ``email`` to the form at ``url`` runs, in order, with the
    commits as ``"COMMIT"``."""
    token = csrf_token(client.get(url))
    with app.app_context():
        engine = db.engine
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    def commit(conn):
        statements.append("COMMIT")

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    try:
        response = client.post(url, data={"csrf_token": token, "email": email})
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", commit)
    assert response.status_code == 302
    return statements


def on_table(statements, table):
    """Of the statements run before the first commit, those that name ``table``."""
    before_commit = statements[: statements.index("COMMIT")]
    return [s for s in before_commit if re.search(rf"\b{table}\b", s)]


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")
@pytest.mark.usefixtures("accounts")
@pytest.mark.parametrize("url", ["/login/email", "/reset"])
def test_an_unknown_address_runs_the_code_statements_a_known_one_does(app, url):
    """Compare the statements rather than time them: the decoy code of an unknown address must
    be the very DELETE and INSERT a real code is (the same statements, so the same plans), or
    the database's work tells the two apart however small the difference. A sign-in link and
    a reset link carry a code alike."""
    table = models.verification_code.__table__.name
    unknown = on_table(statements_of(app, app.test_client(), url, KINDS["unknown"]), table)
    for kind in ("confirmed", "unconfirmed"):
        known = on_table(statements_of(app, app.test_client(), url, KINDS[kind]), table)
        # Then one more: the DELETE of the decoy row, before the commit (nothing is kept).
        assert unknown[: len(known)] == known
        assert [s.split()[0] for s in unknown[len(known) :]] == ["DELETE"]


@pytest.mark.usefixtures("accounts")
@pytest.mark.parametrize("url", ["/login/email", "/reset"])
def test_an_answer_reads_nothing_after_its_commit_whoever_the_address_is(app, url):
    """A log line or signal that read the account after the commit would load it again: one
    SELECT more than an unknown address costs, at the very end of the answer."""
    for kind in ("unknown", "confirmed", "unconfirmed"):
        statements = statements_of(app, app.test_client(), url, KINDS[kind])
        assert statements[statements.index("COMMIT") + 1 :] == [], kind


@pytest.mark.usefixtures("accounts")
@pytest.mark.parametrize("url", ["/reset", "/login/email"])
def test_an_unknown_address_runs_the_account_statements_a_known_one_does(app, client, login, url):
    """A reset or sign-in link request of an unknown address costs a known one's UPDATE and
    SELECT of an account, counted and compared rather than timed.

    Probed from a signed-in browser (an attacker has an account of their own), of a host app
    that reads the signed-in user before its views, as many do: that account is in the
    database session already, and must not make the decoy's lookup any cheaper."""

    @app.before_request
    def read_the_signed_in_user():
        current_user.is_authenticated  # noqa: B018 (loads the account, as a host app's g.user)

    login(KINDS["confirmed"])  # the oldest account: whichever it is, the lookup costs alike
    table = models.user.__table__.name
    unknown = on_table(statements_of(app, client, url, KINDS["unknown"]), table)
    for kind in ("confirmed", "unconfirmed"):
        known = on_table(statements_of(app, client, url, KINDS[kind]), table)
        assert unknown == known, kind


def mail_written(client, url, email):
    """POST ``email`` to the form at ``url``; return the mail it wrote to the outbox, parsed,
    whether it was kept or taken back before the commit (a decoy)."""
    mails = []

    def record(mapper, connection, target):
        mails.append(parse_mail(target.raw, target.kind))

    event.listen(models.outbox, "before_insert", record)
    try:
        response = submit(client, url, {"email": email})
    finally:
        event.remove(models.outbox, "before_insert", record)
    assert response.status_code == 302
    [mail] = mails
    return mail


def mail_shape(app, purpose, mail, email):
    """Return the mail's kind, subject and bodies, with its address, its one link's token and
    its code put in words, and the length of each value the token signs.

    The payload's lengths rather than the token's: a token is compressed when that makes it
    shorter, which some random digests allow, for a real token and a decoy alike."""
    [link] = mail.links
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        payload = current_state().tokens.read(purpose, token)
    signed = {key: len(json.dumps(value)) for key, value in payload.items()}
    code = re.search(r"^\s+(\d{6})\s*$", mail.text, re.MULTILINE)
    assert code, f"no six-digit code in the mail:\n{mail.text}"

    def shape(body):
        return body.replace(token, "TOKEN").replace(code.group(1), "CODE").replace(email, "ADDRESS")

    return mail.kind, shape(mail.subject), shape(mail.text), shape(mail.html), signed


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")
@pytest.mark.usefixtures("accounts")
@pytest.mark.parametrize(
    ("purpose", "url"), [(Purpose.RESET, "/reset"), (Purpose.LOGIN, "/login/email")]
)
def test_an_unknown_address_renders_the_mail_a_known_one_gets(app, time_machine, purpose, url):
    """The decoy mail an unknown address costs is the real one, taken back: the same template
    with a token signing values as long (a sign-in token names the asking browser, the decoy's
    too) and a code of six digits, so signing, rendering and writing it cost the same."""
    time_machine.move_to("2026-06-01 12:00:00", tick=False)

    shapes = {
        kind: mail_shape(app, purpose, mail_written(app.test_client(), url, email), email)
        for kind, email in KINDS.items()
    }

    assert_all_alike(shapes)


@pytest.fixture
def resend_kinds(app, make_user):
    """Every way a logged-out resend can go, by address: the one that sends a link first."""
    long_ago = utcnow() - dt.timedelta(days=1)
    # The confirmed account is the oldest (id 1 on a clean schema): looking up its address loads
    # it into the session, so a decoy that reloaded a real account by id, rather than none,
    # would find it there and skip the SELECT a send costs.
    make_user(KINDS["confirmed"])
    make_user("due@example.com", confirmed=False, confirmation_sent_at=long_ago)
    make_user("waiting@example.com", confirmed=False, confirmation_sent_at=utcnow())
    make_user("bounced@example.com", confirmed=False, confirmation_sent_at=long_ago)
    with app.app_context():
        mark_undeliverable("bounced@example.com", "550 no such user")
    return {
        "due": "due@example.com",
        "rate-limited": "waiting@example.com",
        "suppressed": "bounced@example.com",
        "confirmed": KINDS["confirmed"],
        "unknown": KINDS["unknown"],
    }


@pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES="with_link")
def test_a_resend_that_sends_nothing_renders_the_mail_one_that_sends_gets(
    app, resend_kinds, time_machine
):
    """The mail a refused resend renders and takes back is the one a send mails: the same
    template, a code of six digits, and a token signing values as long (the stand-in of an
    address without an account has a counter, a stamp and an address digest like an account's),
    so rendering and signing it cost the same."""
    time_machine.move_to(utcnow(), tick=False)

    shapes = {
        kind: mail_shape(
            app, Purpose.CONFIRM, mail_written(app.test_client(), "/resend", email), email
        )
        for kind, email in resend_kinds.items()
    }

    for kind, shape in shapes.items():
        assert shape == shapes["due"], f"{kind}: a different mail from the one that is sent"


@pytest.mark.parametrize(
    "codes",
    [
        pytest.param(codes, marks=pytest.mark.app_config(MAILPROOF_VERIFICATION_CODES=codes))
        for codes in ("off", "with_link")
    ],
)
def test_a_resend_runs_the_statements_of_one_that_sends_whatever_the_address(
    app, resend_kinds, outbox, codes
):
    """A logged-out resend that sends nothing (no account, a confirmed one, a suppressed
    address, a link sent moments ago) must cost what one that sends does: the counter's UPDATE,
    the account's SELECT, the code and the rendered mail written (and taken back), a commit,
    and nothing after it. Compared rather than timed: a send's writes take milliseconds that a
    lookup alone does not, and the same statements have the same plans."""
    tables = [models.user, models.outbox, models.verification_code]
    ran = {
        kind: statements_of(app, app.test_client(), "/resend", email)
        for kind, email in resend_kinds.items()
    }
    # One link went out, to the account whose last one is old; no other address got mail.
    assert [m.to for m in outbox()] == [resend_kinds["due"]]
    for kind, statements in ran.items():
        assert "COMMIT" in statements, f"{kind}: no commit, so none of a send's writes"
        assert statements[statements.index("COMMIT") + 1 :] == [], kind
        for model in tables:
            table = model.__table__.name
            sent = on_table(ran["due"], table)
            spent = on_table(statements, table)
            # The decoy's rows are deleted before the commit: that DELETE is all it adds.
            assert spent[: len(sent)] == sent, (kind, table)
            assert [s.split()[0] for s in spent[len(sent) :]] in ([], ["DELETE"]), (kind, table)
