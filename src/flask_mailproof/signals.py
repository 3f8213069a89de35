"""Signals sent by the flows, all in one blinker namespace.

Every signal is sent with the Flask application as sender; the keyword arguments are listed
with each. Connect with ``user_registered.connect_via(app)`` or ``.connect(func)``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A new account was created. ``user``.
user_registered = _signals.signal("user-registered")

#: A confirmation mail was written to the outbox. ``user``.
confirmation_sent = _signals.signal("confirmation-sent")

#: A user proved their address by clicking a confirmation link. ``user``.
email_confirmed = _signals.signal("email-confirmed")

#: A user logged in. ``user``, ``method``: ``"password"``, ``"email_link"`` or ``"email_code"``.
user_logged_in = _signals.signal("user-logged-in")

#: A sign-in link (and code, where codes are on) was written to the outbox. ``user``.
login_link_sent = _signals.signal("login-link-sent")

#: An account that never confirmed was deleted by ``purge-unconfirmed``. ``email``, ``user_id``.
unconfirmed_user_purged = _signals.signal("unconfirmed-user-purged")

#: A contact message was proven by its sender (or came from a confirmed user's own address).
#: ``contact_message``: the stored row; its ``status`` is ``delivered`` when it was also mailed
#: to ``MAILPROOF_CONTACT_RECIPIENT``, else ``verified``. Connect to route it elsewhere (a
#: ticket system, a chat channel); sent after the commit.
contact_verified = _signals.signal("contact-verified")
#: A reset was asked for. ``user`` (``None`` when no account has the address, and then no
#: link was mailed), ``email`` (the address as typed, normalised).
reset_requested = _signals.signal("reset-requested")

#: A user set a new password through a reset link. ``user``.
password_reset = _signals.signal("password-reset")

#: A logged-in user changed their password. ``user``.
password_changed = _signals.signal("password-changed")

#: An account's address changed: a confirmed change, an undo from the old address, or an
#: unconfirmed user's correction. ``user``, ``old_email``, ``new_email``.
email_changed = _signals.signal("email-changed")

#: A message failed for good: refused with a 5xx, or out of attempts. ``message`` (the outbox
#: row, detached; ``recipient``, ``kind``, ``message_id``), ``permanent`` (``True`` for a
#: refusal, ``False`` for a temporary failure that ran out of attempts). Sent after the commit.
delivery_failed = _signals.signal("delivery-failed")

#: An address was put on the suppression list (a 5xx refusal of the recipient, a reported
#: bounce or complaint): no more mail is written to it. ``address``, ``reason`` (the server's
#: reply or the provider's reason, cut to 500 characters). Sent after the commit.
address_suppressed = _signals.signal("address-suppressed")

#: A mail was written to the outbox and committed. ``kind`` (its template: ``confirm``,
#: ``reset``...), ``message_id`` (its ``Message-ID``). Not sent for mail to a suppressed address,
#: which is never written. Sent after the commit.
mail_queued = _signals.signal("mail-queued")

#: An attempt to deliver an outbox message was recorded. ``message`` (the outbox row, detached,
#: as it was claimed: ``kind``, ``created_at``...), ``outcome`` (``"sent"``, ``"retry"`` or
#: ``"failed"``), ``reason`` (``None`` when sent, else the class of the failure: ``"connection"``,
#: ``"temporary"`` (a 4xx), ``"recipient_refused"``, ``"refused"`` (another 5xx),
#: ``"exhausted"`` (out of attempts) or ``"unexpected"``), ``recorded_at`` (naive UTC). Sent
#: after the commit.
delivery_attempted = _signals.signal("delivery-attempted")

#: A rate limit refused a request (or, for limits whose answer must not change, silently skipped
#: its mail). ``limit`` (the rule's name, e.g. ``"signup_per_ip"``), ``retry_after`` (seconds).
#: The client's IP or address is not passed: it is personal data, and no metric needs it.
rate_limited = _signals.signal("rate-limited")
