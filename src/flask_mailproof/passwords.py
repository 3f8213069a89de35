"""Password hashing (argon2id), the password policy, and rehashing on login."""

from __future__ import annotations

import re
import typing as t
import unicodedata

import argon2
from argon2.exceptions import InvalidHashError, VerificationError
from flask import g, has_app_context
from zxcvbn import zxcvbn

from .errors import PasswordRejected
from .i18n import gettext

#: zxcvbn's cost grows with length, and zxcvbn 4.5 raises ``ValueError`` past 72 characters;
#: a password that long is judged by its start (``aaaa...``, a phrase from a list), and the
#: whole of it is still hashed and verified.
_STRENGTH_CHECK_CHARS = 72


def normalise_password(password: str) -> str:
    """Return the NFKC form NIST SP 800-63B advises hashing, so equivalent input verifies."""
    return unicodedata.normalize("NFKC", password)


#: Characters ignored when comparing a password with the address: ``ann.lee`` is ``annlee``.
_ADDRESS_SEPARATORS = re.compile(r"[._\-+@\s]")


def _squashed(value: str) -> str:
    return _ADDRESS_SEPARATORS.sub("", value.casefold())


def _address_spellings(user_inputs: tuple[str, ...]) -> set[str]:
    """Return what a password made of the address looks like, separators dropped.

    ``Ann.Lee+news@example.org`` gives ``annleenews``, ``annlee``, ``annleenewsexampleorg``
    and ``annleeexampleorg``: the local part (with and without its ``+tag``), alone or with
    the domain.
    """
    spellings = set()
    for value in user_inputs:
        local, at, domain = value.rpartition("@")
        if not at:
            continue
        for mailbox in {local, local.split("+", 1)[0]}:
            spellings.update({_squashed(mailbox), _squashed(mailbox + domain)})
    spellings.discard("")
    return spellings


def _strength(password: str, words: list[str]) -> dict[str, t.Any]:
    """Return zxcvbn's verdict on ``password``, judged once per request.

    A sign-up's form checks the password to show the reason next to its field, and the flow
    checks it again before hashing, whoever called it; zxcvbn takes about 3 ms each time. The
    verdict is kept in ``g`` (the request's life, as the form data that holds the password).
    """
    if not has_app_context():
        return t.cast(dict[str, t.Any], zxcvbn(password, user_inputs=words))
    judged: dict[tuple[str, tuple[str, ...]], dict[str, t.Any]]
    judged = g.setdefault("_mailproof_password_strength", {})
    key = (password, tuple(words))
    if key not in judged:
        judged[key] = zxcvbn(password, user_inputs=words)
    return judged[key]


def _words_of(user_inputs: tuple[str, ...]) -> list[str]:
    """Return the inputs and their words of three letters or more: ``ann.lee@xy.org`` also
    gives ``ann``, ``lee`` and ``org``.

    zxcvbn matches user inputs as whole dictionary words, so a password made of the parts of
    the address would pass if only the address were given. Shorter parts (initials, country
    codes) are in too many passwords to count against their owner.
    """
    words = [part for value in user_inputs for part in re.split(r"\W+", value) if len(part) > 2]
    return [*user_inputs, *words]


class Passwords:
    """Hash, verify and judge passwords with one set of argon2id parameters."""

    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost: int,
        parallelism: int,
        min_length: int,
        max_bytes: int,
        min_score: int,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self.min_length = min_length
        self.max_bytes = max_bytes
        self.min_score = min_score
        # Verified against when an address has no account, so that path costs a real hash.
        self._dummy_hash = self._hasher.hash("flask-mailproof: no such account")

    def check_policy(self, password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
        """Refuse a new password that is too short, too long, or easy to guess.

        :raises PasswordRejected: with the reason to show next to the field.
        """
        if len(password.encode("utf-8", "surrogatepass")) > self.max_bytes:
            raise PasswordRejected(gettext("Use at most %(num)d bytes.", num=self.max_bytes))
        typed = password
        password = normalise_password(password)
        # Counted as typed and as hashed, the shorter counting: NFKC grows one typed U+FDFA
        # into 18 characters, and composes a decomposed "é" (two code points) into one.
        if min(len(typed), len(password)) < self.min_length:
            raise PasswordRejected(gettext("Use at least %(num)d characters.", num=self.min_length))
        # zxcvbn only scores the address's words; spelled with other separators or glued to
        # the domain, the address can still pass it, and it is the first guess of anyone.
        if _squashed(password) in _address_spellings(user_inputs):
            raise PasswordRejected(gettext("Do not make your password out of your email address."))
        result = _strength(password[:_STRENGTH_CHECK_CHARS], _words_of(user_inputs))
        if result["score"] < self.min_score:
            # zxcvbn's own feedback is English; our catalogs translate the sentences it knows.
            feedback = result["feedback"]
            warning = feedback.get("warning")
            reason = gettext(warning) if warning else gettext("This password is too easy to guess.")
            suggestions = " ".join(gettext(s) for s in feedback.get("suggestions") or ())
            raise PasswordRejected(f"{reason.rstrip('.')}. {suggestions}".strip())

    def hash(self, password: str) -> str:
        """Return the argon2id hash of the normalised password."""
        return self._hasher.hash(normalise_password(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Tell whether ``password`` matches; with no hash, spend the same time and say no."""
        if len(password.encode("utf-8", "surrogatepass")) > self.max_bytes:
            return False
        candidate = normalise_password(password)
        try:
            if password_hash is None:
                self._hasher.verify(self._dummy_hash, candidate)
                return False
            return self._hasher.verify(password_hash, candidate)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Tell whether a stored hash was made with other parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
