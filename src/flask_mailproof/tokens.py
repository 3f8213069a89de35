"""Signed, timed tokens: one salt per purpose, keys rotated through ``SECRET_KEY_FALLBACKS``."""

from __future__ import annotations

import hashlib
import hmac
import typing as t

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .claims import C, Claim, Purpose
from .errors import TokenExpired, TokenInvalid

__all__ = ["MAX_TOKEN_LENGTH", "Purpose", "Tokens", "digest", "same"]

#: Longest token we try to read; ours stay far below it, so longer input is junk.
MAX_TOKEN_LENGTH = 1024


class Tokens:
    """Issue and read tokens for every :class:`Purpose`.

    :param secret_key: the current key; new tokens are signed with it.
    :param fallbacks: older keys still accepted, so rotating a key keeps links in flight alive.
    :param lifetimes: seconds each purpose's tokens live (the ``MAILPROOF_*_MAX_AGE`` settings).
    """

    def __init__(
        self,
        secret_key: str | bytes,
        fallbacks: t.Iterable[str | bytes] = (),
        lifetimes: t.Mapping[Purpose, int] | None = None,
    ) -> None:
        # itsdangerous signs with the last key and verifies with all of them.
        self._keys = [_as_bytes(key) for key in (*fallbacks, secret_key)]
        self._lifetimes = dict(lifetimes or {})

    def max_age(self, purpose: Purpose) -> int:
        """Return how many seconds tokens of ``purpose`` live."""
        return self._lifetimes[purpose]

    def mac(self, message: bytes) -> str:
        """Return the hex HMAC-SHA256 of ``message`` under the current key.

        For secrets the database stores in place of what was mailed (verification codes):
        a copy of the table alone cannot test guesses against them.
        """
        return hmac.new(self._keys[-1], message, hashlib.sha256).hexdigest()

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._keys, salt=f"flask-mailproof.{purpose.value}")

    def issue(self, purpose: Purpose, payload: dict[str, t.Any]) -> str:
        """Sign ``payload`` for ``purpose`` with the current key."""
        token = self._serializer(purpose).dumps(payload)
        return token if isinstance(token, str) else token.decode("ascii")

    def issue_claim(self, claim: Claim) -> str:
        """Sign ``claim`` for its purpose with the current key."""
        return self.issue(claim.purpose, claim.to_payload())

    def read_claim(self, kind: type[C], token: str) -> C:
        """Return the claim of ``kind`` a token makes, if it is still within its lifetime.

        :raises TokenExpired: signature good, time up; carries the raw payload.
        :raises TokenInvalid: junk, tampering, another purpose, a removed key, a bad payload.
        """
        return kind.from_payload(self.read(kind.purpose, token))

    def read(self, purpose: Purpose, token: str, max_age: int | None = None) -> dict[str, t.Any]:
        """Return the payload of a token made for ``purpose`` at most ``max_age`` seconds ago
        (by default, the purpose's lifetime).

        :raises TokenExpired: signature good, time up; carries the payload.
        :raises TokenInvalid: anything else: junk, tampering, another purpose, a removed key.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise TokenInvalid()  # malformed token
        serializer = self._serializer(purpose)
        if max_age is None:
            max_age = self.max_age(purpose)
        try:
            payload = serializer.loads(token, max_age=max_age)
        except SignatureExpired as exc:
            raise TokenExpired(_payload_or_none(serializer, exc.payload)) from None
        except BadSignature:
            raise TokenInvalid() from None  # bad signature
        if not isinstance(payload, dict):
            raise TokenInvalid()  # unexpected payload
        return payload


def _as_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def _payload_or_none(serializer: URLSafeTimedSerializer, raw: t.Any) -> dict[str, t.Any] | None:
    try:
        payload = serializer.load_payload(raw)
    except BadSignature:
        return None
    return payload if isinstance(payload, dict) else None


def digest(*values: object) -> str:
    """Return a short digest binding a token to state (an address, a stamp, a hash).

    The token is readable by whoever holds it, so state is signed in as a digest, never in
    clear; 16 hex digits are plenty when the signature already stops forgery.
    """
    joined = "\x1f".join(str(v) for v in values).encode("utf-8")
    return hashlib.sha256(joined).hexdigest()[:16]


def same(a: object, b: object) -> bool:
    """Compare two signed-in values in constant time."""
    return hmac.compare_digest(str(a).encode("utf-8"), str(b).encode("utf-8"))
