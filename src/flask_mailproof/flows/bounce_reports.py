"""Bounce reports from a mail provider: check the signature and the body, then record them.

The endpoint is public, so what it believes must be proven: the body is signed with
HMAC-SHA256 under ``MAILPROOF_BOUNCE_WEBHOOK_SECRET`` together with a timestamp, and a
timestamp older than ``MAILPROOF_BOUNCE_WEBHOOK_MAX_AGE`` is refused, so a recorded call
cannot be played again later. Without the secret nobody can stop mail to an address.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
import typing as t

from ..errors import InvalidBounceReport
from ..mail.bounces import report_bounce
from ..models import SuppressionSource
from ..state import current_state

#: Largest body accepted, in bytes: one report is a few hundred.
MAX_REPORT_BYTES = 16 * 1024
#: Longest reason kept from a report (the suppression keeps 500 characters of it).
_MAX_REASON = 2000


@dataclasses.dataclass(frozen=True)
class BounceReport:
    """One provider event, in the endpoint's own small format."""

    address: str
    reason: str
    permanent: bool = True
    reply_code: int | None = None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return the ``X-Mailproof-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_signature(body: bytes, timestamp: str | None, signed: str | None) -> None:
    """Refuse a report that is unsigned, wrongly signed, or older than the allowed age.

    :raises InvalidBounceReport: 401, and nothing said about which part was wrong beyond
        "stale" (a clock problem the sender must be able to see).
    """
    settings = current_state().settings
    if not timestamp or not signed or not timestamp.isdigit() or len(timestamp) > 12:
        raise InvalidBounceReport(401, "signature_missing", _SIGNATURE_HELP)
    expected = signature(settings.bounce_webhook_secret, timestamp, body)
    # Constant time: a byte-by-byte comparison would let a caller guess a signature piecewise.
    if not hmac.compare_digest(expected.encode(), signed.strip().encode()):
        raise InvalidBounceReport(401, "signature_invalid", _SIGNATURE_HELP)
    if abs(time.time() - int(timestamp)) > settings.bounce_webhook_max_age:
        raise InvalidBounceReport(
            401, "timestamp_stale", "The timestamp is too old (or in the future): sign anew."
        )


_SIGNATURE_HELP = (
    "Sign the body: X-Mailproof-Timestamp (Unix seconds) and X-Mailproof-Signature "
    "(sha256=HMAC-SHA256 of '<timestamp>.<body>' under the shared secret, in hex)."
)


def parse_report(body: bytes) -> BounceReport:
    """Read ``{"address": ..., "reason": ..., "permanent": true, "reply_code": 550}``.

    :raises InvalidBounceReport: 400 naming what is wrong.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidBounceReport(400, "invalid_json", "The body is not JSON.") from None
    if not isinstance(data, dict):
        raise InvalidBounceReport(400, "invalid_report", "The body must be a JSON object.")
    unknown = set(data) - {"address", "reason", "permanent", "reply_code"}
    if unknown:
        raise InvalidBounceReport(400, "invalid_report", f"Unknown fields: {sorted(unknown)}.")
    address, reason = data.get("address"), data.get("reason", "")
    permanent, reply_code = data.get("permanent", True), data.get("reply_code")
    if not _plausible_address(address):
        raise InvalidBounceReport(400, "invalid_address", "address must be one email address.")
    if not isinstance(reason, str) or len(reason) > _MAX_REASON:
        raise InvalidBounceReport(400, "invalid_report", "reason must be text (2000 at most).")
    if not isinstance(permanent, bool):
        raise InvalidBounceReport(400, "invalid_report", "permanent must be true or false.")
    if reply_code is not None and not (
        isinstance(reply_code, int) and not isinstance(reply_code, bool) and 200 <= reply_code < 600
    ):
        raise InvalidBounceReport(400, "invalid_report", "reply_code must be an SMTP code.")
    return BounceReport(address, reason or "bounced", permanent, reply_code)


def _plausible_address(value: object) -> t.TypeGuard[str]:
    # Not parse_address: mail we sent went to what we stored, and that is what is reported.
    return (
        isinstance(value, str)
        and 3 <= len(value) <= 254
        and "@" in value
        and value.isprintable()
        and not any(c.isspace() for c in value)
    )


def receive_bounce_report(body: bytes, timestamp: str | None, signed: str | None) -> bool:
    """Check and record one signed report; tell whether the address was suppressed.

    :raises InvalidBounceReport: unsigned, stale or malformed; nothing recorded.
    """
    check_signature(body, timestamp, signed)
    report = parse_report(body)
    return report_bounce(
        report.address,
        report.reason,
        permanent=report.permanent,
        source=SuppressionSource.WEBHOOK,
        reply_code=report.reply_code,
    )
