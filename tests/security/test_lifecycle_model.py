"""A model of one address's account over its whole life, checked after every step.

Two actors act on the account of ``OWNER`` through the real app (test clients, the suite's
database, the outbox read from it, a frozen clock):

- the **owner** controls the mailbox ``OWNER``: registers, logs in and out, confirms, resets
  the password, changes it, undoes an address change, asks for another link;
- the **attacker** does not control that mailbox but may have known the password at some
  point (``attacker_learns_the_password``); the attacker's own mailbox is ``ATTACKER``, read
  from the same outbox (only mail addressed there). The attacker registers the owner's
  address, logs in, guesses passwords, asks to move the account to ``ATTACKER``, uses the
  links that arrive there, and replays every cookie and link ever seen.

Assumptions, stated because the invariants rest on them:

- The owner confirms only their own sign-up: the owner follows the latest confirmation link in
  the mailbox, in the owner's own browser, and only after registering at least once. A
  mailbox owner who confirms a sign-up they never made is accepting that account as it is.
- An undo link puts the address back and ends every session; it does not claim to change the
  password (its page sends the owner to the reset form), so the password part of the first
  invariant applies to confirmations and resets.

Invariants (each names the finding it reproduces when its fix is reverted):

- once the owner has completed a mailbox proof (confirmation, reset or undo), nothing the
  attacker held before it still works: no session or remember cookie, no password the
  attacker set (after a reset: no password the attacker knew), no link in the attacker's
  mailbox (finding 2, account pre-hijacking; finding 6 for email-change links);
- after the proof the owner can log in: with a password the owner chose, or through the reset
  mail sent for it (finding 2);
- after a logout, no cookie of that browser's login is accepted; after "log out everywhere",
  no cookie of any login of the account (finding 1);
- no answer to the attacker (status, redirect, cookies and session keys, body without CSRF
  tokens and the address, the page redirected to) depends on whether an account exists;
- every wrong password the attacker types, on any form, counts toward the one per-IP limit of
  failed logins, and over it every password form refuses the attacker (finding 5);
- a password change or reset kills every email-change link sent before it (finding 6);
- at most one link per purpose and account works, and a used link is dead.

``LIFECYCLE_MODEL_EXAMPLES`` and ``LIFECYCLE_MODEL_STEPS`` set how long it explores; the
defaults fit CI's budget on SQLite. The review's four attacks are also told through the model as
scripted stories (:data:`STORIES`), so that each is caught on every run, whatever the
exploration reaches.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import re
import typing as t
from urllib.parse import urlsplit

import pytest
import time_machine
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from itsdangerous import URLSafeTimedSerializer
from limits import parse_many
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof.addresses import address_key
from flask_mailproof.clock import utcnow
from flask_mailproof.state import current_state
from helpers import parse_mail

#: The address whose account the model follows; its mailbox is the owner's.
OWNER = "owner@example.com"
#: The attacker's own mailbox, at a domain the attacker controls.
ATTACKER = "attacker@attacker.example"
OWNER_IP = "198.51.100.7"
ATTACKER_IP = "203.0.113.66"
#: What the attacker types when guessing: never anybody's password.
WRONG = "a wrong guess at the password 0"
#: A password the policy refuses.
WEAK = "password"
START = dt.datetime(2030, 1, 6, 9, 0, tzinfo=dt.UTC)

EXAMPLES = int(os.environ.get("LIFECYCLE_MODEL_EXAMPLES", "60"))
STEPS = int(os.environ.get("LIFECYCLE_MODEL_STEPS", "30"))

#: Shrinking a failure can take Hypothesis's five-minute cap, and explaining it reruns it many
#: times over: CI reports the steps as found (each failure names its finding and step). Set
#: ``LIFECYCLE_MODEL_SKIP=explain`` to have the steps shrunk when reproducing by hand.
SKIPPED = os.environ.get("LIFECYCLE_MODEL_SKIP", "explain,shrink").split(",")
PHASES = [p for p in Phase if p.name not in SKIPPED]

_LINK_PURPOSES = (
    ("/change-email/undo/", "undo", "email-revert"),
    ("/change-email/", "email-change", "email-change"),
    ("/confirm/", "confirm", "confirm"),
    ("/reset/", "reset", "reset"),
    ("/login/email/", "login", "login"),
)
_SESSION_ID = re.compile(r"^(\d+):")


Method = t.TypeVar("Method", bound=t.Callable[..., None])


def action(
    when: t.Callable[[t.Any], object] | None = None, **arguments: st.SearchStrategy[t.Any]
) -> t.Callable[[Method], Method]:
    """Make a method one of the actors' actions: ``when`` says whether it can happen now,
    ``arguments`` how its arguments are drawn (an argument named ``data`` gets the draws)."""

    def mark(method: Method) -> Method:
        method.action = (when, arguments)  # type: ignore[attr-defined]
        return method

    return mark


@dataclasses.dataclass
class Link:
    """A link from a mail in the outbox."""

    purpose: str
    path: str
    to: str
    account: int | None
    step: int
    #: When it was sent, in seconds of the frozen clock.
    sent: float
    used: bool = False


@dataclasses.dataclass(frozen=True)
class Cookie:
    """A login cookie a browser held: its name, value, account and the step it was seen."""

    name: str
    value: str
    account: int
    step: int


@dataclasses.dataclass
class Browser:
    """One browser: its own cookie jar and client IP; ``login`` holds this login's cookies."""

    name: str
    client: t.Any
    ip: str
    login: set[Cookie] = dataclasses.field(default_factory=set)


@dataclasses.dataclass(frozen=True)
class Proof:
    """The owner proved the mailbox for ``account`` at ``step``."""

    kind: str
    account: int
    step: int


class Window:
    """What Flask-Limiter's fixed windows count for one key, from what the app answered."""

    def __init__(self, rule: str) -> None:
        self.items = [(item.amount, item.get_expiry()) for item in parse_many(rule)]
        self.windows: dict[int, tuple[float, int]] = {}

    def hit(self, now: float) -> None:
        for index, (_, period) in enumerate(self.items):
            start, count = self.windows.get(index, (now, 0))
            if now >= start + period:
                start, count = now, 0
            self.windows[index] = (start, count + 1)

    def used_up(self, now: float) -> bool:
        return any(
            now < start + self.items[index][1] and count >= self.items[index][0]
            for index, (start, count) in self.windows.items()
        )

    def clear(self) -> None:
        self.windows.clear()


_CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*?value=")([^"]*)')


def _without(body: bytes, *addresses: str) -> bytes:
    """Return a page with its CSRF tokens and ``addresses`` blanked."""
    text = _CSRF_VALUE.sub(rb"\1-", body)
    for address in addresses:
        text = text.replace(address.encode(), b"ADDRESS")
    return text


class LifecycleModel(RuleBasedStateMachine):
    """The owner, the attacker, and what each holds; invariants after every step."""

    def __init__(self, app: t.Any) -> None:
        super().__init__()
        self.app = app
        self.step = 0
        self.ips = (f"10.{n // 250}.{n % 250}.1" for n in itertools.count(1))
        self.addresses = (f"nobody{n}@example.org" for n in itertools.count(1))
        self.passwords = (f"maple river {n} quartz lantern" for n in itertools.count(101))
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self._reset_app()
        self.owner = self._browser("owner", OWNER_IP)
        self.attacker = self._browser("attacker", ATTACKER_IP)
        #: The owner's passwords, latest last; and the accounts the owner signed up for (an
        #: account moved off the owner's address stays the owner's; a later one at the address
        #: may be the attacker's).
        self.owner_passwords: list[str] = []
        self.owner_accounts: set[int] = set()
        #: Passwords the attacker knows: value -> (step learned, set by the attacker).
        self.attacker_passwords: dict[str, tuple[int, bool]] = {}
        #: In the order seen (a dict as an ordered set): a replay must draw the same cookie.
        self.attacker_cookies: dict[Cookie, None] = {}
        self.logged_out: dict[Cookie, str] = {}
        self.links: list[Link] = []
        self.last_mail_id = 0
        self.proofs: list[Proof] = []
        self.unchecked_proofs: list[Proof] = []
        #: Password changes and resets: (account, step).
        self.password_changes: list[tuple[int, int]] = []
        settings = self.settings
        self.lifetimes = {
            "confirm": settings.confirm_max_age,
            "reset": settings.reset_max_age,
            "email-change": settings.email_change_max_age,
            "undo": settings.email_change_max_age,
            "login": settings.login_link_max_age,
        }
        self.wrong_guesses = Window(self.settings.limit_login_failures_per_ip)
        self.owner_address_failures = Window(self.settings.limit_login_failures_per_address)
        self.ip_not_refused: list[str] = []
        self.missing_routes: list[str] = []
        self.probed = False
        self.differences: list[str] = []
        #: What the invariants found out this step (a link works, a cookie logs in).
        self.seen: dict[object, bool] = {}

    def teardown(self) -> None:
        self.traveller.stop()

    # -- the world ----------------------------------------------------------------------

    @property
    def settings(self) -> t.Any:
        with self.app.app_context():
            return current_state().settings

    def _reset_app(self) -> None:
        with self.app.app_context():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
        for limiter in self.app.extensions.get("limiter", ()):
            limiter.reset()

    def _browser(self, name: str, ip: str | None = None) -> Browser:
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip or next(self.ips)
        return Browser(name, client, client.environ_base["REMOTE_ADDR"])

    def _now(self) -> float:
        return dt.datetime.now(dt.UTC).timestamp()

    def _account(self, email: str = OWNER) -> t.Any:
        with self.app.app_context():
            user = db.session.scalars(
                select(models.user).where(models.user.email_key == address_key(email))
            ).first()
            if user is not None:
                db.session.expunge(user)
            return user

    def _account_by_id(self, account: int) -> t.Any:
        with self.app.app_context():
            user = db.session.get(models.user, account)
            if user is not None:
                db.session.expunge(user)
            return user

    def _verifies(self, account: t.Any, password: str) -> bool:
        if account is None or account.password_hash is None:
            return False
        with self.app.app_context():
            return bool(current_state().passwords.verify(account.password_hash, password))

    def _read_outbox(self) -> None:
        with self.app.app_context():
            rows = db.session.scalars(
                select(models.outbox)
                .where(models.outbox.id > self.last_mail_id)
                .order_by(models.outbox.id)
            ).all()
            for row in rows:
                self.last_mail_id = row.id
                mail = parse_mail(row.raw, row.kind, row.status)
                for url in mail.links:
                    self._note_link(mail.to, urlsplit(url).path)

    def _note_link(self, to: str, path: str) -> None:
        for prefix, purpose, salt in _LINK_PURPOSES:
            if path.startswith(prefix) and path != prefix:
                token = path.removeprefix(prefix)
                serializer = URLSafeTimedSerializer(
                    self.app.secret_key, salt=f"flask-mailproof.{salt}"
                )
                _, payload = serializer.loads_unsafe(token)
                account = payload.get("u") if isinstance(payload, dict) else None
                self.links.append(Link(purpose, path, to, account, self.step, self._now()))
                return

    def _has_link(self, to: str, purpose: str | None = None) -> bool:
        return any(link.to == to and purpose in (None, link.purpose) for link in self.links)

    def _mailbox(self, to: str, purpose: str) -> list[Link]:
        self._read_outbox()
        return [link for link in self.links if link.to == to and link.purpose == purpose]

    def _note_cookies(self, browser: Browser) -> None:
        """Record the login cookies ``browser`` holds now, with the account they name."""
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        for name in ("session", "remember_token"):
            cookie = browser.client.get_cookie(name)
            if cookie is None or not cookie.value:
                continue
            if name == "session":
                session_id = str(serializer.loads(cookie.value).get("_user_id", ""))
            else:
                session_id = cookie.value
            found = _SESSION_ID.match(session_id)
            if found is None:
                continue
            held = Cookie(name, cookie.value, int(found.group(1)), self.step)
            if all(c.value != held.value for c in browser.login):
                browser.login.add(held)
            if browser.name == "attacker":
                self.attacker_cookies.setdefault(held)

    def _accepted(self, cookie: Cookie) -> bool:
        """Tell whether a fresh browser holding only ``cookie`` is logged in."""
        if cookie not in self.seen:
            client = self._browser("replay").client
            client.set_cookie(cookie.name, cookie.value)
            response = client.get("/profile")
            location = urlsplit(response.location or "").path
            self.seen[cookie] = not (response.status_code == 302 and location == "/login")
        return self.seen[cookie]

    def _live_values(self) -> set[str]:
        # A value a logged-in browser still holds is that browser's live login, not a replay.
        return {c.value for b in (self.owner, self.attacker) for c in b.login}

    def _usable(self, link: Link) -> bool:
        """Tell whether ``link`` still works, by its GET (which changes nothing).

        A link older than its purpose's lifetime is taken as dead without asking: the frozen
        clock makes that exact, and it keeps the run within its budget.
        """
        if self._now() - link.sent > self.lifetimes[link.purpose]:
            return False
        if link.path not in self.seen:
            client = self._browser("checker").client
            response = client.get(link.path)
            if link.purpose == "reset" and response.status_code == 302:
                response = client.get(urlsplit(response.location).path)
            self.seen[link.path] = response.status_code == 200
        return self.seen[link.path]

    def _post_form(
        self, browser: Browser, url: str, data: dict[str, t.Any], page: str | None = None
    ) -> t.Any:
        """GET the form (``page``, else ``url``), POST ``data`` with its CSRF token; ``None`` if
        the form is not there for this browser."""
        shown = browser.client.get(page or url)
        token = _CSRF_VALUE.search(shown.data)
        if shown.status_code != 200 or token is None:
            return None
        response = browser.client.post(url, data={"csrf_token": token.group(2).decode(), **data})
        self._note_cookies(browser)
        return response

    def _answer(self, browser: Browser, response: t.Any, *addresses: str) -> tuple[t.Any, ...]:
        """Everything an attacker sees of an answer, minus CSRF tokens and the addresses."""
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        session_keys: list[str] = []
        flashes: t.Any = None
        for header in response.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if name == "session" and value:
                content = dict(serializer.loads(value))
                flashes = content.get("_flashes")
                session_keys = sorted(content)
        followed = None
        if response.status_code == 302:
            followed = browser.client.get(urlsplit(response.location).path)
        return (
            response.status_code,
            response.headers.get("Location"),
            sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")),
            session_keys,
            str(flashes).replace(addresses[0], "ADDRESS") if flashes else None,
            _without(response.data, *addresses),
            None
            if followed is None
            else (followed.status_code, _without(followed.data, *addresses)),
        )

    def _compare(
        self, what: str, url: str, data: dict[str, str], real: t.Any, browser: Browser
    ) -> None:
        """Send what the attacker sent about the owner's address for a never-used address, from
        an equivalent fresh browser, and record any difference in the answers."""
        if real is None or real.status_code == 429:
            return  # the attacker's own IP is over a limit: that says nothing about accounts
        other = next(self.addresses)
        twin = self._browser("twin")
        twin_data = {k: (other if v == OWNER else v) for k, v in data.items()}
        seen = self._answer(browser, real, OWNER)
        expected = self._answer(twin, self._post_form(twin, url, twin_data), other)
        if seen != expected:
            self.differences.append(f"{what}: {seen!r} != {expected!r}")

    def _begin(self) -> None:
        self.step += 1
        self.seen = {}
        self._read_outbox()

    @initialize(
        # Hypothesis draws the first most often: the richer stories come first.
        start=st.sampled_from(
            [
                "the attacker asked to move the owner's confirmed account",
                "the attacker signs up",
                "the attacker is logged in to the owner's confirmed account",
                "the owner has a confirmed account",
                "the owner signs up",
                "nothing",
            ]
        )
    )
    def how_it_starts(self, start: str) -> None:
        """Begin from an empty site, a sign-up by either actor, a confirmed account, or that
        account with the attacker logged in by a leaked password (and asking to move it): the
        stories' usual first steps, given here so that the budget goes to what follows."""
        if start == "the attacker signs up":
            self.step += 1
            password = next(self.passwords)
            self._attacker_knows(password, set_it=True)
            self._post_form(
                self._browser("attacker", ATTACKER_IP),
                "/register",
                {"email": OWNER, "password": password, "password_confirm": password},
            )
        elif start == "the owner signs up":
            self.owner_registers()
        else:
            self.owner_registers()
            self.owner_confirms()
            if start.startswith("the attacker"):
                # The password leaked (reused elsewhere, seen over a shoulder, in a breach).
                password = self.owner_passwords[-1]
                self._attacker_knows(password, set_it=False)
                self._attacker_logs_in(password, remember=False)
            if start == "the attacker asked to move the owner's confirmed account":
                self._ask_to_move(password)
        self._read_outbox()

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        """One action, drawn evenly from those that can happen now.

        One rule rather than one per action: Hypothesis enables a random subset of rules per
        example (swarm testing) and leans on the first valid ones, so most steps went to the
        two actions that are always possible, and the stories behind findings 5 and 6 were
        seldom reached within the CI budget. Hypothesis also draws the first choice of a list
        more often than the others, so the list turns by one action each step.
        """
        possible = [name for name, (when, _) in ACTIONS.items() if when is None or when(self)]
        turn = self.step % len(possible)
        possible = possible[turn:] + possible[:turn]
        name = data.draw(st.sampled_from(possible), label="action")
        _, arguments = ACTIONS[name]
        drawn = {
            key: data if key == "data" else data.draw(strategy, label=key)
            for key, strategy in arguments.items()
        }
        getattr(self, name)(**drawn)

    # -- the owner ----------------------------------------------------------------------

    @action()
    def owner_registers(self) -> None:
        self._begin()
        password = next(self.passwords)
        self.owner_passwords.append(password)
        self._post_form(
            self.owner,
            "/register",
            {"email": OWNER, "password": password, "password_confirm": password},
        )
        account = self._account()
        if account is not None:
            self.owner_accounts.add(account.id)

    @action(when=lambda self: self.owner_passwords, remember=st.booleans())
    def owner_logs_in(self, remember: bool) -> None:
        self._begin()
        self._log_in(self.owner, self.owner_passwords[-1], remember)

    def _log_in(self, browser: Browser, password: str, remember: bool) -> t.Any:
        data = {"email": OWNER, "password": password}
        if remember:
            data["remember"] = "y"
        response = self._post_form(browser, "/login", data)
        if response is not None and response.status_code == 422:
            self.owner_address_failures.hit(self._now())
        if response is not None and response.status_code == 302:
            browser.login = set()
            self._note_cookies(browser)
        return response

    @action(
        when=lambda self: self.owner.login or self.attacker.login,
        attacker=st.booleans(),
        api=st.booleans(),
    )
    def logs_out(self, attacker: bool, api: bool) -> None:
        """Either actor logs out, through the HTML form or the JSON API."""
        self._begin()
        self._log_out(self.attacker if attacker else self.owner, api)

    def _log_out(self, browser: Browser, api: bool) -> None:
        held = set(browser.login)
        if api:
            token = browser.client.get("/api/csrf").get_json()["csrf_token"]
            response = browser.client.post("/api/logout", headers={"X-CSRFToken": token})
            ok = response.status_code == 200
        else:
            response = self._post_form(browser, "/logout", {}, page="/reset")
            ok = response is not None and response.status_code == 302
        if ok:
            for cookie in held:
                self.logged_out[cookie] = f"{browser.name} logged out ({'API' if api else 'HTML'})"
            browser.login = set()

    @action(when=lambda self: self.owner_accounts and self._has_link(OWNER, "confirm"))
    def owner_confirms(self) -> None:
        """Click the latest confirmation link of a sign-up the owner made.

        A link for a sign-up only the attacker made is left alone: whoever confirms a sign-up
        they never made accepts its password (docs/security.md says so), which is no hijack.
        """
        self._begin()
        links = [
            link
            for link in self._mailbox(OWNER, "confirm")
            if link.account is not None and link.account in self.owner_accounts
        ]
        if not links:
            return
        link = links[-1]
        before = self._account_by_id(link.account)
        response = self._post_form(self.owner, link.path, {})
        after = self._account_by_id(link.account)
        if response is None or before is None or after is None:
            return
        if before.confirmed_at is None and after.confirmed_at is not None:
            link.used = True
            self._proved("confirmation", link.account)

    def _proved(self, kind: str, account: int) -> None:
        proof = Proof(kind, account, self.step)
        self.proofs.append(proof)
        self.unchecked_proofs.append(proof)

    @action()
    def owner_asks_for_a_reset(self) -> None:
        self._begin()
        self._post_form(self.owner, "/reset", {"email": OWNER})

    @action(when=lambda self: self._has_link(OWNER, "reset"))
    def owner_resets_the_password(self) -> None:
        """Set a new password through the latest reset link in the mailbox."""
        self._begin()
        links = self._mailbox(OWNER, "reset")
        if not links or links[-1].account is None:
            return
        link = links[-1]
        password = next(self.passwords)
        self.owner.client.get(link.path)
        response = self._post_form(
            self.owner,
            "/reset/set-password",
            {"password": password, "password_confirm": password},
        )
        if response is not None and response.status_code == 302:
            link.used = True
            self.owner_passwords.append(password)
            self.owner_address_failures.clear()  # a reset lifts the address's lock
            self.password_changes.append((link.account, self.step))
            self._proved("reset", link.account)

    @action()
    def owner_asks_for_a_sign_in_link(self) -> None:
        self._begin()
        self._post_form(self.owner, "/login/email", {"email": OWNER})

    @action(when=lambda self: self._has_link(OWNER, "login"))
    def owner_signs_in_by_link(self) -> None:
        """Press the button behind the latest sign-in link, in the browser that asked for it.

        A first sign-in proves the mailbox as a confirmation does, so the same invariants hold
        after it: the attacker's sessions, passwords and links are dead, the owner gets in.
        """
        self._begin()
        links = self._mailbox(OWNER, "login")
        if not links or links[-1].account is None:
            return
        link = links[-1]
        before = self._account_by_id(link.account)
        response = self._post_form(self.owner, link.path, {})
        if response is None or response.status_code != 302 or before is None:
            return
        link.used = True
        self.owner_address_failures.clear()  # a sign-in by link lifts the address's lock
        self.owner.login = set()
        self._note_cookies(self.owner)
        if before.confirmed_at is None:
            self._proved("sign-in", link.account)

    @action(when=lambda self: self._has_link(OWNER, "undo"))
    def owner_undoes_an_address_change(self) -> None:
        self._begin()
        links = self._mailbox(OWNER, "undo")
        if not links or links[-1].account is None:
            return
        link = links[-1]
        response = self._post_form(self.owner, link.path, {})
        account = self._account_by_id(link.account)
        if response is not None and response.status_code == 302 and account.email == OWNER:
            link.used = True
            self._proved("undo", link.account)

    @action(when=lambda self: self.owner.login and self.owner_passwords)
    def owner_changes_the_password(self) -> None:
        self._begin()
        password = next(self.passwords)
        response = self._post_form(
            self.owner,
            "/change-password",
            {
                "current_password": self.owner_passwords[-1],
                "password": password,
                "password_confirm": password,
            },
        )
        if response is not None and response.status_code == 302:
            self.owner_passwords.append(password)
            account = self._account()
            self.password_changes.append((account.id, self.step))
            self.owner.login = set()
            self._note_cookies(self.owner)

    @action(attacker=st.booleans())
    def asks_for_another_link(self, attacker: bool) -> None:
        """Resend: logged in, the button; logged out, the form with the address."""
        self._begin()
        if attacker:
            self._attacker_asks_for_another_link()
        elif self._post_form(self.owner, "/resend", {}) is None:
            self._post_form(self.owner, "/resend", {"email": OWNER})

    @action(when=lambda self: self.owner.login or self.attacker.login, attacker=st.booleans())
    def log_out_everywhere(self, attacker: bool) -> None:
        self._begin()
        browser = self.attacker if attacker else self.owner
        accounts = {c.account for c in browser.login}
        response = self._post_form(browser, "/logout-everywhere", {}, page="/profile")
        if response is None:
            return  # not logged in to a confirmed account: no profile page, no button
        if response.status_code != 302:
            self.missing_routes.append(f"POST /logout-everywhere answered {response.status_code}")
            return
        for held in (self.owner, self.attacker):
            for cookie in held.login if held is not browser else set(browser.login):
                if cookie.account in accounts:
                    self.logged_out[cookie] = f"{browser.name} logged out everywhere"
        for cookie in self.attacker_cookies:
            if cookie.account in accounts:
                self.logged_out[cookie] = f"{browser.name} logged out everywhere"
        for held in (self.owner, self.attacker):
            held.login = {c for c in held.login if c.account not in accounts}

    # -- the attacker -------------------------------------------------------------------

    def _attacker_account(self) -> t.Any:
        """The account the attacker is logged in to: perhaps no longer at ``OWNER``'s address."""
        accounts = {cookie.account for cookie in self.attacker.login}
        return self._account_by_id(accounts.pop()) if len(accounts) == 1 else self._account()

    def _attacker_knows(self, password: str, *, set_it: bool) -> None:
        if password not in self.attacker_passwords:
            self.attacker_passwords[password] = (self.step, set_it)

    def _known_or_new(self, data: st.DataObject) -> str:
        known = sorted(self.attacker_passwords)
        return data.draw(st.sampled_from([*known, WEAK, "new"]))

    @action(data=st.data())
    def attacker_registers(self, data: st.DataObject) -> None:
        self._begin()
        password = self._known_or_new(data)
        if password == "new":
            password = next(self.passwords)
        self._attacker_knows(password, set_it=True)
        browser = self._browser("attacker", ATTACKER_IP)
        form = {"email": OWNER, "password": password, "password_confirm": password}
        response = self._post_form(browser, "/register", form)
        self._compare("registration", "/register", form, response, browser)

    @action(
        when=lambda self: self.attacker_passwords or self.owner_passwords,
        data=st.data(),
        remember=st.booleans(),
    )
    def attacker_logs_in(self, data: st.DataObject, remember: bool) -> None:
        """Log in with a password the attacker knows, or with the owner's current one, which
        has just leaked (reused elsewhere, seen over a shoulder, in a breach)."""
        self._begin()
        known = sorted(self.attacker_passwords)
        password = data.draw(st.sampled_from([*known, "leaked"] if self.owner_passwords else known))
        if password == "leaked":
            account = self._account()
            leaked = [p for p in self.owner_passwords if self._verifies(account, p)]
            password = leaked[-1] if leaked else WRONG
            self._attacker_knows(password, set_it=False)
        self._attacker_logs_in(password, remember)

    def _attacker_logs_in(self, password: str, remember: bool) -> None:
        account = self._account()
        wrong = not self._verifies(account, password)
        browser = self._browser("attacker", ATTACKER_IP)
        limited = self.wrong_guesses.used_up(self._now())
        response = self._log_in(browser, password, remember)
        self._check_guess("/login", limited, wrong, response)
        if response.status_code == 302:
            self.attacker = browser
            return
        form = {"email": OWNER, "password": password}
        if remember:
            form["remember"] = "y"
        self._compare("login", "/login", form, response, browser)

    def _check_guess(
        self, url: str, limited: bool, wrong: bool, response: t.Any, account: t.Any = None
    ) -> None:
        """Count a wrong password the app did not refuse; over the limit, expect a refusal.

        On an account's form (``account``), a wrong password also counts against the account's
        address, as a failed login there does (``_log_in`` counts those at ``OWNER``).
        """
        if response is None:
            return
        if limited and response.status_code != 429:
            self.ip_not_refused.append(
                f"POST {url} answered {response.status_code} after the attacker's IP used up "
                "its failed logins"
            )
        if wrong and response.status_code != 429:
            self.wrong_guesses.hit(self._now())
            if account is not None and account.email_key == address_key(OWNER):
                self.owner_address_failures.hit(self._now())

    @action(times=st.sampled_from([1, 4, 11]))
    def attacker_guesses_at_login(self, times: int) -> None:
        """Type ``times`` wrong passwords into the login form."""
        self._begin()
        for _ in range(times):
            self._attacker_logs_in(WRONG, False)

    @action(
        when=lambda self: self.attacker.login,
        url=st.sampled_from(["/change-email", "/change-password"]),
        times=st.sampled_from([1, 4, 11]),
    )
    def attacker_guesses_on_an_account_form(self, url: str, times: int) -> None:
        """Type ``times`` wrong passwords into a form of the account the attacker is in."""
        self._begin()
        account = self._attacker_account()
        for _ in range(times):
            limited = self.wrong_guesses.used_up(self._now())
            response = self._post_form(self.attacker, url, self._guess_form(url))
            if response is None:
                return  # not logged in (or not confirmed, for /change-password)
            self._check_guess(url, limited, True, response, account)

    def _guess_form(self, url: str) -> dict[str, str]:
        if url == "/change-email":
            # Never the account's own address, which the form refuses before the password.
            return {"email": next(self.addresses), "current_password": WRONG}
        new = "another maple river quartz lantern"
        return {"current_password": WRONG, "password": new, "password_confirm": new}

    @action(when=lambda self: self.attacker.login and self.attacker_passwords, data=st.data())
    def attacker_changes_the_password(self, data: st.DataObject) -> None:
        self._begin()
        current = data.draw(st.sampled_from(sorted(self.attacker_passwords)))
        password = next(self.passwords)
        account = self._attacker_account()
        limited = self.wrong_guesses.used_up(self._now())
        form = {"current_password": current, "password": password, "password_confirm": password}
        response = self._post_form(self.attacker, "/change-password", form)
        wrong = not self._verifies(account, current)
        self._check_guess("/change-password", limited, wrong, response, account)
        if response is not None and response.status_code == 302:
            self._attacker_knows(password, set_it=True)
            self.password_changes.append((account.id, self.step))
            self.attacker.login = set()
            self._note_cookies(self.attacker)

    @action(when=lambda self: self.attacker.login and self.attacker_passwords, data=st.data())
    def attacker_asks_to_move_the_account(self, data: st.DataObject) -> None:
        self._begin()
        self._ask_to_move(data.draw(st.sampled_from(sorted(self.attacker_passwords))))

    def _ask_to_move(self, current: str) -> None:
        account = self._attacker_account()
        if account is None or account.email_key == address_key(ATTACKER):
            return  # moved there already: the form refuses the same address before the password
        limited = self.wrong_guesses.used_up(self._now())
        form = {"email": ATTACKER, "current_password": current}
        response = self._post_form(self.attacker, "/change-email", form)
        wrong = not self._verifies(account, current)
        self._check_guess("/change-email", limited, wrong, response, account)

    @action(when=lambda self: self._has_link(ATTACKER), data=st.data())
    def attacker_uses_a_link(self, data: st.DataObject) -> None:
        """Use (or replay) any link that ever reached the attacker's mailbox."""
        self._begin()
        self._read_outbox()
        links = [link for link in self.links if link.to == ATTACKER]
        if not links:
            return
        link = data.draw(st.sampled_from(links))
        if link.purpose == "reset":
            return  # resets are the owner's; a reset link at the attacker's is never used
        before = self._account_by_id(link.account) if link.account else None
        response = self._post_form(self.attacker, link.path, {})
        if link.purpose == "login":
            # A sign-in at the attacker's own address: it uses the link up and starts a login.
            if response is not None and response.status_code == 302:
                link.used = True
                self.attacker.login = set()
                self._note_cookies(self.attacker)
            return
        after = self._account_by_id(link.account) if link.account else None
        if response is None or before is None or after is None:
            return
        changed = (before.email_key, before.confirmed_at) != (after.email_key, after.confirmed_at)
        if response.status_code == 302 and changed:
            link.used = True

    @action(when=lambda self: self.attacker_cookies, data=st.data())
    def attacker_replays_a_cookie(self, data: st.DataObject) -> None:
        """Carry on in a browser holding one cookie the attacker ever saw, if it works."""
        self._begin()
        if not self.attacker_cookies:
            return
        cookie = data.draw(st.sampled_from(list(self.attacker_cookies)))
        if self._accepted(cookie):
            browser = self._browser("attacker", ATTACKER_IP)
            browser.client.set_cookie(cookie.name, cookie.value)
            browser.client.get("/profile")
            browser.login = {cookie}
            self._note_cookies(browser)
            self.attacker = browser

    @action(data=st.data())
    def attacker_asks_for_a_sign_in_link(self, data: st.DataObject) -> None:
        """Ask for a sign-in link for the owner's address, which must be answered as an unknown
        address is, or for the attacker's own, whose link reaches the attacker's mailbox."""
        self._begin()
        if data.draw(st.booleans(), label="for the owner's address"):
            browser = self._browser("attacker", ATTACKER_IP)
            form = {"email": OWNER}
            response = self._post_form(browser, "/login/email", form)
            self._compare("sign-in link", "/login/email", form, response, browser)
        else:
            self._post_form(self.attacker, "/login/email", {"email": ATTACKER})

    @action()
    def attacker_requests_a_reset(self) -> None:
        self._begin()
        browser = self._browser("attacker", ATTACKER_IP)
        form = {"email": OWNER}
        self._compare("reset", "/reset", form, self._post_form(browser, "/reset", form), browser)

    def _attacker_asks_for_another_link(self) -> None:
        if self._post_form(self.attacker, "/resend", {}) is not None:
            return  # logged in: nothing named, nothing to compare
        browser = self._browser("attacker", ATTACKER_IP)
        form = {"email": OWNER}
        self._compare("resend", "/resend", form, self._post_form(browser, "/resend", form), browser)

    @action(when=lambda self: not self.probed)
    def attacker_probes_the_address_change_form(self) -> None:
        """From two accounts of the attacker's, ask to move each to the owner's address and to
        a never-used one: the answers must be alike. Once per run: it costs four requests."""
        self._begin()
        self.probed = True
        answers = []
        for target in (OWNER, next(self.addresses)):
            mine = next(self.addresses).replace("example.org", "attacker.example")
            with self.app.app_context():
                state = current_state()
                db.session.add(
                    models.user(
                        email=mine,
                        email_key=address_key(mine),
                        password_hash=state.passwords.hash(WRONG),
                        registered_at=utcnow(),
                        confirmed_at=utcnow(),
                    )
                )
                db.session.commit()
            browser = self._browser("probe")
            self._post_form(browser, "/login", {"email": mine, "password": WRONG})
            form = {"email": target, "current_password": WRONG}
            response = self._post_form(browser, "/change-email", form)
            if response is None:
                return
            answers.append(self._answer(browser, response, target, mine))
        if answers[0] != answers[1]:
            self.differences.append(f"change-email: {answers[0]!r} != {answers[1]!r}")

    @action(seconds=st.sampled_from([30, 200, 3600, 86400 + 60]))
    def time_passes(self, seconds: int) -> None:
        self._begin()
        self.clock.shift(seconds)

    # -- the invariants -----------------------------------------------------------------

    @invariant()
    def a_mailbox_proof_ends_what_the_attacker_held(self) -> None:
        if not self.proofs:
            return
        live = self._live_values()
        for proof in self.proofs:
            for cookie in self.attacker_cookies:
                if cookie.account == proof.account and cookie.step < proof.step:
                    assert cookie.value in live or not self._accepted(cookie), (
                        f"finding 2: the attacker's {cookie.name} cookie from step {cookie.step} "
                        f"still logs in after the owner's {proof.kind} at step {proof.step}"
                    )
            account = self._account_by_id(proof.account)
            for password, (step, set_it) in self.attacker_passwords.items():
                dead = step < proof.step and (set_it or proof.kind == "reset")
                if dead and proof.kind != "undo":
                    assert not self._verifies(account, password), (
                        f"finding 2: a password the attacker knew at step {step} still opens "
                        f"the account after the owner's {proof.kind} at step {proof.step}"
                    )
            for link in self.links:
                if link.to == ATTACKER and link.account == proof.account and link.step < proof.step:
                    assert not self._usable(link), (
                        f"finding 6: the attacker's {link.purpose} link from step "
                        f"{link.step} still works after the owner's {proof.kind} at step "
                        f"{proof.step}"
                    )

    @invariant()
    def the_owner_can_log_in_after_a_proof(self) -> None:
        while self.unchecked_proofs:
            proof = self.unchecked_proofs.pop()
            if proof.kind == "undo":
                continue  # the password is whatever it was; the undo page leads to a reset
            account = self._account_by_id(proof.account)
            mine = [p for p in self.owner_passwords if self._verifies(account, p)]
            if not mine:
                resets = [
                    link
                    for link in self._mailbox(OWNER, "reset")
                    if link.account == proof.account and link.step >= proof.step
                ]
                assert resets, (
                    f"finding 2: after the owner's {proof.kind} at step {proof.step} no password "
                    "the owner chose opens the account, and no reset mail was sent for it"
                )
                continue
            if self.owner_address_failures.used_up(self._now()):
                continue  # the attacker's wrong guesses lock the address for a while
            browser = self._browser("owner", OWNER_IP)
            response = self._log_in(browser, mine[-1], False)
            assert response.status_code == 302, (
                f"finding 2: the owner cannot log in after the {proof.kind} at step {proof.step}"
            )

    @invariant()
    def a_logged_out_cookie_stays_dead(self) -> None:
        live = self._live_values()
        assert not self.missing_routes, f"finding 1: {self.missing_routes[0]}"
        for cookie, how in self.logged_out.items():
            assert cookie.value in live or not self._accepted(cookie), (
                f"finding 1: a {cookie.name} cookie of step {cookie.step} still logs in after {how}"
            )

    @invariant()
    def no_answer_tells_whether_an_account_exists(self) -> None:
        assert not self.differences, "the answer tells an account exists: " + self.differences[0]

    @invariant()
    def every_wrong_password_counts_toward_one_limit(self) -> None:
        assert not self.ip_not_refused, "finding 5: " + self.ip_not_refused[0]
        if not self.wrong_guesses.used_up(self._now()):
            return
        for url in ("/login", "/change-email", "/change-password"):
            if url == "/login":
                browser = self._browser("attacker", ATTACKER_IP)
                form = {"email": next(self.addresses), "password": WRONG}
            else:
                browser, form = self.attacker, self._guess_form(url)
            response = self._post_form(browser, url, form)
            if response is not None and response.status_code != 429:
                self.wrong_guesses.hit(self._now())
                raise AssertionError(
                    f"finding 5: a wrong password at {url} answered {response.status_code} "
                    "after the attacker's IP used up its failed logins"
                )

    @invariant()
    def a_password_change_kills_earlier_address_change_links(self) -> None:
        for account, step in self.password_changes:
            for link in self.links:
                if link.purpose == "email-change" and link.account == account and link.step < step:
                    assert not self._usable(link), (
                        f"finding 6: an email-change link from step {link.step} still works "
                        f"after the password changed at step {step}"
                    )

    @invariant()
    def one_link_per_purpose_works_and_a_used_one_is_dead(self) -> None:
        self._read_outbox()
        usable: dict[tuple[str, int | None], list[int]] = {}
        for link in self.links:
            if self._usable(link):
                assert not link.used, f"a used {link.purpose} link of step {link.step} works again"
                usable.setdefault((link.purpose, link.account), []).append(link.step)
        for (purpose, account), steps in usable.items():
            assert len(steps) <= 1, (
                f"{len(steps)} {purpose} links of account {account} work: {steps}"
            )


#: Every action, by name, with its condition and its arguments' strategies.
ACTIONS: dict[str, tuple[t.Callable[[t.Any], object] | None, dict[str, t.Any]]] = {
    name: method.action
    for name, method in vars(LifecycleModel).items()
    if hasattr(method, "action")
}


class Scripted:
    """Stands in for Hypothesis's ``data`` in a scripted story: each draw takes the next value.

    The story keeps the values; each telling draws from its own copy (:meth:`fresh`), so a
    story told twice in one process (``pytest`` run twice, as mutmut does) is told alike.
    """

    def __init__(self, *values: t.Any) -> None:
        self.values = values
        self._left = list(values)

    def fresh(self) -> Scripted:
        return Scripted(*self.values)

    def draw(self, strategy: t.Any, label: str | None = None) -> t.Any:
        return self._left.pop(0)


#: The review's attacks, each told through the model as a start and its actions. They run
#: before the exploration, so each finding is caught every time its fix is undone, whatever
#: the exploration reaches in its budget.
STORIES: dict[
    str, tuple[str, list[tuple[str, dict[str, t.Any]]], t.Callable[[LifecycleModel], bool]]
] = {
    "finding 1: a logout leaves the remember-me login alive": (
        "the owner has a confirmed account",
        [
            ("owner_logs_in", {"remember": True}),
            ("logs_out", {"attacker": False, "api": False}),
        ],
        lambda model: any(cookie.name == "remember_token" for cookie in model.logged_out),
    ),
    "finding 2: the attacker's pending sign-up survives the owner's": (
        "the attacker signs up",
        [
            (
                "attacker_logs_in",
                {"data": Scripted("maple river 101 quartz lantern"), "remember": True},
            ),
            ("time_passes", {"seconds": 200}),
            ("owner_registers", {}),
            ("owner_confirms", {}),
        ],
        lambda model: [proof.kind for proof in model.proofs] == ["confirmation"],
    ),
    "finding 5: wrong passwords at the address change count for nothing": (
        "the attacker is logged in to the owner's confirmed account",
        [("attacker_guesses_on_an_account_form", {"url": "/change-email", "times": 11})],
        # Five went through; then the address's lock refuses the form (429), as it should.
        lambda model: model.wrong_guesses.windows[0][1] == 5,
    ),
    # Not a finding: the path through an account without a password. The owner confirms after
    # the attacker signed up again, so the password goes; the attacker's password is then a
    # wrong one (counted), and the owner's reset sets the first password, which logs in.
    "an account left without a password: a reset sets one, then login works": (
        "the attacker signs up",
        [
            ("time_passes", {"seconds": 200}),
            ("owner_registers", {}),
            ("time_passes", {"seconds": 200}),
            ("attacker_registers", {"data": Scripted("new")}),
            ("owner_confirms", {}),
            (
                "attacker_logs_in",
                {"data": Scripted("maple river 103 quartz lantern"), "remember": False},
            ),
            ("owner_resets_the_password", {}),
            ("owner_logs_in", {"remember": False}),
        ],
        lambda model: (
            [proof.kind for proof in model.proofs] == ["confirmation", "reset"]
            and model.wrong_guesses.windows[0][1] == 1
            and bool(model.owner.login)
        ),
    ),
    "finding 6: the attacker's pending move survives the owner's reset": (
        "the attacker asked to move the owner's confirmed account",
        [("owner_asks_for_a_reset", {}), ("owner_resets_the_password", {})],
        lambda model: bool(model.password_changes) and model._has_link(ATTACKER, "email-change"),
    ),
}


@pytest.mark.parametrize("story", STORIES)
def test_the_reviews_attacks_told_through_the_model(app: t.Any, story: str) -> None:
    start, actions, reached = STORIES[story]
    invariants = [
        getattr(LifecycleModel, name)
        for name in dir(LifecycleModel)
        if getattr(getattr(LifecycleModel, name), "hypothesis_stateful_invariant", None)
    ]
    assert len(invariants) == 7
    model = LifecycleModel(app)
    try:
        model.how_it_starts(start)
        for check in invariants:  # as Hypothesis does, after the start too
            check(model)
        for name, arguments in actions:
            told = {k: v.fresh() if isinstance(v, Scripted) else v for k, v in arguments.items()}
            getattr(model, name)(**told)
            for check in invariants:
                check(model)
        # The story was told to its end: the state the attack needs was reached.
        assert reached(model)
    finally:
        model.teardown()


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="thousands of requests per run: within CI's minute only on SQLite",
)
def test_the_account_lifecycle_model(app: t.Any) -> None:
    run_state_machine_as_test(
        lambda: LifecycleModel(app),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=PHASES,
        ),
    )
