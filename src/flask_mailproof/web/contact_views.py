"""The contact form, its "check your inbox" page, and the link that releases a message."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..claims import Purpose
from ..clock import utcnow
from ..errors import (
    InvalidAddress,
    InvalidContactField,
    RateLimited,
    TokenExpired,
    TokenInvalid,
    TokenUsed,
)
from ..flows.contact import check_contact_token, submit_contact_message, verify_contact_message
from ..flows.suppression import address_bounce
from ..guards import limit_address
from ..i18n import gettext
from ..links import describe_duration
from ..sessions import contact_address, keep_contact_address
from ..state import current_state
from .blueprint import bp
from .forms import ButtonForm, ContactForm
from .limits import limit_per_ip, too_many_requests
from .pages import FORM_ERROR_STATUS, add_field_error, page


@bp.route("/contact", methods=["GET", "POST"])
@limit_per_ip("contact")
def contact() -> Response:
    form = ContactForm()
    user = current_user if current_user.is_authenticated else None
    if user is not None and not form.is_submitted():
        form.email.data = user.email
    if form.validate_on_submit():
        # Verification mails to one address are limited: the form must not mail a stranger
        # over and over. A contact form reveals no account, so the sender is told to wait.
        try:
            limit_address("contact", form.email.data)
        except RateLimited as limited:
            return too_many_requests(limited.retry_after)
        try:
            submitted = submit_contact_message(
                form.name.data, form.email.data, form.message.data, user=user
            )
        except InvalidAddress as error:
            add_field_error(form.email, error.reason)
        except InvalidContactField as error:
            add_field_error(form[error.field], error.reason)
        except RateLimited as limited:
            return _too_many_pending(form, limited)
        else:
            if not submitted.held:
                return redirect(url_for("mailproof.contact_received"))
            keep_contact_address(submitted.contact_message.email, utcnow())
            flash(
                gettext("We sent a link to %(email)s.", email=submitted.contact_message.email),
                "info",
            )
            return redirect(url_for("mailproof.contact_sent"))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("contact.html", status, form=form)


def _too_many_pending(form: ContactForm, limited: RateLimited) -> Response:
    # Nothing is dropped silently: the sender is told why, and the form keeps what they wrote.
    add_field_error(
        form.email,
        gettext(
            "Messages from this address are waiting for verification: open the links we "
            "mailed to it first, or try again in %(wait)s.",
            wait=_wait_in_minutes(limited.retry_after),
        ),
    )
    response = page("contact.html", 429, form=form)
    response.headers["Retry-After"] = str(limited.retry_after)
    return response


def _wait_in_minutes(seconds: int) -> str:
    # "3 minutes" for 170 seconds: a wait reads better rounded up to whole minutes.
    return describe_duration(max(60, -(-seconds // 60) * 60))


@bp.route("/contact/sent")
def contact_sent() -> Response:
    max_age = current_state().tokens.max_age(Purpose.CONTACT)
    # Only this browser's own message, and only a refusal since it was sent (as /unconfirmed).
    sent = contact_address()
    bounce = address_bounce(sent[0], since=sent[1]) if sent else None
    return page(
        "contact_sent.html",
        expires_in=describe_duration(max_age),
        bounce=bounce,
        sent_from=sent[0] if sent else None,
    )


@bp.route("/contact/received")
def contact_received() -> Response:
    return page("contact_received.html")


@bp.route("/contact/verify/<path:token>", methods=["GET", "POST"])
def contact_verify(token: str) -> Response:
    # A GET only shows a button: mail scanners open links, and must not release anything.
    form = ButtonForm()
    try:
        if not form.validate_on_submit():
            check_contact_token(token)
            return page("contact_verify.html", form=form, token=token)
        verify_contact_message(token)
    except TokenUsed:
        return page("contact_already_received.html")
    except TokenExpired:
        return page("contact_expired.html", 410)
    except TokenInvalid:
        return page("contact_link_invalid.html", 404)
    return redirect(url_for("mailproof.contact_received"))
