"""Contact messages: held until their sender proves the address, then released once.

Anyone can type a stranger's address into a contact form, so the mail asking to verify says
nothing of what was typed (no name, no message), and only the click on its page's button lets
the message reach the site.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from sqlalchemy import select, update

from ..addresses import Address, parse_address
from ..claims import ContactClaim, Purpose
from ..clock import seconds_until, utcnow
from ..contact_text import clean_contact_text
from ..errors import RateLimited, TokenExpired, TokenInvalid, TokenUsed
from ..i18n import site_language
from ..links import describe_duration, external_url, mailed_link
from ..logs import auth_logger
from ..models import (
    CONTACT_MESSAGE_MAX_LENGTH,
    CONTACT_NAME_MAX_LENGTH,
    ContactMessageMixin,
    ContactStatus,
)
from ..signals import contact_verified
from ..state import current_state
from ..tokens import digest, same

log = auth_logger("flask_mailproof.contact")


@dataclasses.dataclass(frozen=True)
class ContactSubmission:
    """What became of a submitted message."""

    contact_message: ContactMessageMixin
    #: ``True``: it waits for its sender's click; ``False``: it was released at once.
    held: bool


def contact_token(contact_message: ContactMessageMixin) -> str:
    """Return the token that releases ``contact_message``, and no other.

    The digest of the address and creation time means a row that reuses a purged message's id
    is not released by the old link.
    """
    return current_state().tokens.issue_claim(
        ContactClaim(message_id=contact_message.id, binding=_binding(contact_message))
    )


def _binding(contact_message: ContactMessageMixin) -> str:
    # Whole seconds: a backend that drops microseconds must not break every link.
    created = contact_message.created_at.replace(microsecond=0).isoformat()
    return digest(contact_message.email_key, created)


def submit_contact_message(
    name: str, email: str, message: str, user: t.Any = None
) -> ContactSubmission:
    """Store a message and mail its sender a link to release it.

    A confirmed ``user`` writing from their own address skips the round trip (when
    ``MAILPROOF_CONTACT_SKIP_CONFIRMED``): that address is proven already.

    :raises InvalidContactField: the name or message is empty, too long or has control chars.
    :raises InvalidAddress: ``email`` is not an address we send mail to.
    :raises RateLimited: the address has as many messages waiting as allowed; ``retry_after``
        is when the oldest of them expires.
    """
    state = current_state()
    name = clean_contact_text("name", name, CONTACT_NAME_MAX_LENGTH)
    message = clean_contact_text("message", message, CONTACT_MESSAGE_MAX_LENGTH)
    address = parse_address(email, check_deliverability=state.settings.check_deliverability)
    now = utcnow()
    model: t.Any = state.models.contact_message
    row: ContactMessageMixin = model(
        name=name,
        email=address.email,
        email_key=address.key,
        message=message,
        status=ContactStatus.PENDING,
        created_at=now,
        user_id=getattr(user, "id", None),
    )
    if _address_proven(user, address):
        row.status, row.verified_at = ContactStatus.VERIFIED, now
        state.db.session.add(row)
        state.db.session.flush()
        return ContactSubmission(_release(row, now), held=False)
    _check_pending_cap(address.key, now)
    state.db.session.add(row)
    state.db.session.flush()
    _queue_verification_mail(row)
    state.db.session.commit()
    log.info("contact message %s held until its sender verifies", row.id)
    return ContactSubmission(row, held=True)


def _address_proven(user: t.Any, address: Address) -> bool:
    if user is None or not current_state().settings.contact_skip_confirmed:
        return False
    return user.confirmed_at is not None and user.email_key == address.key


def _check_pending_cap(email_key: str, now: dt.datetime) -> None:
    """Refuse a message while the address has the most live pending messages allowed.

    Only messages whose link still works count: an expired one can never be released, and
    must not lock its sender out until the purge.
    """
    state = current_state()
    model = state.models.contact_message
    max_age = dt.timedelta(seconds=state.tokens.max_age(Purpose.CONTACT))
    limit = state.settings.contact_max_pending
    query = (
        select(model.created_at)
        .where(
            model.email_key == email_key,
            model.status == ContactStatus.PENDING,
            model.created_at > now - max_age,
        )
        .order_by(model.created_at.desc())
        .limit(limit)
    )
    live = list(state.db.session.scalars(query))
    if len(live) < limit:
        return
    # A slot frees up when the oldest of the newest ``limit`` links expires.
    frees_at = live[-1] + max_age
    raise RateLimited(seconds_until(frees_at))


def _queue_verification_mail(row: ContactMessageMixin) -> None:
    state = current_state()
    state.outbox.queue(
        row.email,
        "contact_verify",
        {
            # Nothing the sender typed: the address may be a stranger's.
            "link": mailed_link(Purpose.CONTACT, contact_token(row)),
            "form_link": external_url("mailproof.contact"),
            "expires_in": describe_duration(state.tokens.max_age(Purpose.CONTACT)),
        },
    )


def _message_named_by(claim: ContactClaim) -> ContactMessageMixin | None:
    state = current_state()
    row: ContactMessageMixin | None = state.db.session.get(
        state.models.contact_message, claim.message_id
    )
    if row is None or not same(claim.binding, _binding(row)):
        return None
    return row


def check_contact_token(token: str) -> ContactMessageMixin:
    """Return the pending message a token releases, changing nothing (for the GET page).

    :raises TokenExpired: the link's time is up; the message stays unreleased.
    :raises TokenUsed: the message was released already (even if the link has expired since).
    :raises TokenInvalid: junk, another purpose, or no such message (purged, or another one).
    """
    state = current_state()
    try:
        claim = state.tokens.read_claim(ContactClaim, token)
    except TokenExpired as expired:
        try:
            released = _message_named_by(ContactClaim.from_payload(expired.payload))
        except TokenInvalid:
            released = None
        if released is not None and released.status != ContactStatus.PENDING:
            raise TokenUsed() from None
        raise
    row = _message_named_by(claim)
    if row is None:
        log.info("contact token refused: no such message")
        raise TokenInvalid()  # no such message
    if row.status != ContactStatus.PENDING:
        raise TokenUsed()
    return row


def verify_contact_message(token: str) -> ContactMessageMixin:
    """Release the message a token names: exactly once, however many clicks race.

    The conditional update from ``pending`` decides: of two concurrent requests, one changes
    the row and the other changes nothing and is told the message arrived already.

    :raises TokenInvalid, TokenExpired, TokenUsed: see :func:`check_contact_token`.
    """
    state = current_state()
    row = check_contact_token(token)
    model = state.models.contact_message
    now = utcnow()
    # Queue racing requests on the row's primary-key lock first: left to itself, MariaDB may
    # lock the status index entry before the row and deadlock two clicks.
    state.db.session.execute(select(model.id).where(model.id == row.id).with_for_update())
    result = state.db.session.execute(
        update(model)
        .where(model.id == row.id, model.status == ContactStatus.PENDING)
        .values(status=ContactStatus.VERIFIED, verified_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        state.db.session.rollback()
        raise TokenUsed()
    state.db.session.refresh(row)
    return _release(row, now)


def _release(row: ContactMessageMixin, now: dt.datetime) -> ContactMessageMixin:
    """Mail a verified message to the site's recipient, commit, and announce it."""
    state = current_state()
    recipient = state.settings.contact_recipient
    if recipient is None:
        log.warning(
            "contact message %s verified; MAILPROOF_CONTACT_RECIPIENT is not set, so it is only "
            "kept in the database and announced by the contact_verified signal",
            row.id,
        )
    else:
        # The site's copy speaks the site's language, not that of the sender's browser.
        with site_language():
            state.outbox.queue(
                recipient, "contact_delivery", {"contact_message": row}, reply_to=row.email
            )
        row.status, row.delivered_at = ContactStatus.DELIVERED, now
    state.db.session.commit()
    log.info("contact message %s released (%s)", row.id, row.status)
    contact_verified.send(state.app, contact_message=row)
    return row
