"""The confirmation link's page and button, the unconfirmed page, and resend."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..addresses import address_key
from ..clock import seconds_until, utcnow
from ..errors import (
    AddressSuppressed,
    AlreadyConfirmed,
    InvalidAddress,
    RateLimited,
    TokenExpired,
    TokenInvalid,
    TokenSuperseded,
)
from ..flows.confirmation import (
    check_confirmation,
    confirm_email,
    next_resend_at,
    renew_expired_confirmation,
    resend_allowed_at,
    resend_confirmation,
    resend_to_address,
)
from ..flows.suppression import address_bounce
from ..i18n import gettext
from ..links import describe_wait
from ..models import SuppressionMixin, UserMixin
from ..sessions import (
    begin_session,
    keep_signup_address,
    logged_in_account_id,
    signup_address,
    signup_receipt,
)
from ..state import current_state
from .blueprint import bp
from .forms import ButtonForm, EmailForm
from .limits import limit_per_ip
from .pages import FORM_ERROR_STATUS, page, show_flow_error


def _fix_address_first() -> str:
    return gettext(
        "Mail to your address cannot be delivered, so no link was sent. Fix your address first."
    )


def _token_problem_page(token: str, error: Exception) -> Response:
    if isinstance(error, TokenExpired):
        return page("confirm_expired.html", 410, token=token, form=ButtonForm())
    if isinstance(error, TokenSuperseded):
        return page("confirm_superseded.html", 410, token=token, form=ButtonForm())
    return page("token_invalid.html", 404)


def _after_confirmation() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("mailproof.profile"))
    return redirect(url_for("mailproof.login"))


# ``/confirm/`` (a link cut short before its token) gets the same page as any unusable token.
@bp.route("/confirm/", defaults={"token": ""}, methods=["GET", "POST"])
@bp.route("/confirm/<path:token>", methods=["GET", "POST"])
def confirm(token: str) -> Response:
    # A GET only shows a button: mail scanners open links, and must not confirm anything.
    form = ButtonForm()
    try:
        if not form.validate_on_submit():
            check_confirmation(token)
            return page("confirm.html", form=form, token=token)
        logged_in_as = logged_in_account_id()
        user = confirm_email(token, receipt=signup_receipt(), logged_in_as=logged_in_as)
    except AlreadyConfirmed:
        flash(gettext("Your address is confirmed already; you can log in."), "info")
        return _after_confirmation()
    except (TokenInvalid, TokenExpired, TokenSuperseded) as error:
        return _token_problem_page(token, error)
    _after_mailbox_proof(user, logged_in_as)
    return _after_confirmation()


def _after_mailbox_proof(user: UserMixin, logged_in_as: int | None) -> None:
    """Carry the confirming browser's login over the ended sessions; say what happened."""
    if logged_in_as == user.id:
        begin_session(user, remember=False)
    if user.password_hash is None and current_state().settings.passwords_enabled:
        flash(
            gettext(
                "Your address is confirmed. It was signed up for more than once, so no "
                "password was kept: we sent you a link to choose yours."
            ),
            "success",
        )
    else:
        flash(gettext("Thank you: your address is confirmed."), "success")


@bp.route("/confirm/<path:token>/renew", methods=["POST"])
@limit_per_ip("resend")
def renew_confirmation(token: str) -> Response:
    form = ButtonForm()
    if not form.validate_on_submit():
        return page("token_invalid.html", 400)
    try:
        renew_expired_confirmation(token)
    except TokenInvalid:
        return page("token_invalid.html", 404)
    except AlreadyConfirmed:
        flash(gettext("Your address is confirmed already; you can log in."), "info")
        return _after_confirmation()
    except AddressSuppressed:
        flash(_fix_address_first(), "error")
        return redirect(url_for("mailproof.unconfirmed"))
    except RateLimited as limited:
        flash(
            gettext(
                "A link was sent moments ago: check your inbox, or ask for another in %(wait)s.",
                wait=describe_wait(limited.retry_after),
            ),
            "error",
        )
        return redirect(url_for("mailproof.unconfirmed"))
    flash(gettext("A fresh link is on its way: check your inbox."), "success")
    return redirect(url_for("mailproof.unconfirmed"))


def _unconfirmed_page(status: int = 200, retry_after: int | None = None) -> Response:
    user = current_user if current_user.is_authenticated else None
    # Logged out, the page names only the address this browser typed to sign up (if any),
    # and its wait comes from this browser's own record: it tells nothing about accounts.
    signed_up = signup_address() if user is None else None
    if user is not None:
        wait_until = next_resend_at(user)
    else:
        wait_until = resend_allowed_at(signed_up[1]) if signed_up else None
    seconds = seconds_until(wait_until) if wait_until else None
    bounce = _own_bounce(user, signed_up)
    if bounce is not None:
        wait_until = seconds = None  # no resend to wait for: the address must be fixed first
    response = page(
        "unconfirmed.html",
        status,
        user=user,
        bounce=bounce,
        signed_up_as=signed_up[0] if signed_up else None,
        form=ButtonForm(),
        email_form=EmailForm(email=signed_up[0] if signed_up else None),
        resend_wait=describe_wait(seconds) if seconds else None,
        resend_at=wait_until,
    )
    if seconds:
        # Reload when the wait is over, so the disabled button comes back on without a script.
        response.headers["Refresh"] = f"{seconds}; url={url_for('mailproof.unconfirmed')}"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _own_bounce(
    user: UserMixin | None, signed_up: tuple[str, dt.datetime] | None
) -> SuppressionMixin | None:
    """Return the bounce of the address this visitor owns: the account's, or the one typed.

    Logged out, only a refusal recorded after this browser's own sign-up counts: the page
    must not tell whoever types an address that someone else's mail to it bounced before.
    """
    if user is not None:
        return address_bounce(user.email)
    if signed_up is not None:
        return address_bounce(signed_up[0], since=signed_up[1])
    return None


@bp.route("/unconfirmed")
def unconfirmed() -> Response:
    if current_user.is_authenticated and current_user.is_confirmed:
        return redirect(url_for("mailproof.profile"))
    return _unconfirmed_page()


@bp.route("/resend", methods=["GET", "POST"])
@limit_per_ip("resend")
def resend() -> Response:
    if current_user.is_authenticated:
        return _resend_for_current_user()
    form = EmailForm()
    if form.validate_on_submit():
        try:
            resend_to_address(form.email.data)
        except InvalidAddress as error:
            show_flow_error(form, error)
        else:
            _restart_signup_wait(form.email.data)
            # The same answer for every address, known or not.
            flash(
                gettext(
                    "If that address has an account waiting for confirmation, a new link is "
                    "on its way."
                ),
                "info",
            )
            return redirect(url_for("mailproof.unconfirmed"))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("resend.html", status, form=form)


def _resend_for_current_user() -> Response:
    form = ButtonForm()
    if not form.validate_on_submit():
        return _unconfirmed_page(400 if form.is_submitted() else 200)
    try:
        resend_confirmation(current_user)
    except AlreadyConfirmed:
        flash(gettext("Your address is confirmed already."), "info")
        return redirect(url_for("mailproof.profile"))
    except AddressSuppressed:
        flash(_fix_address_first(), "error")
        return _unconfirmed_page(409)
    except RateLimited as limited:
        flash(
            gettext(
                "A link was sent moments ago; you can ask for another in %(wait)s.",
                wait=describe_wait(limited.retry_after),
            ),
            "error",
        )
        return _unconfirmed_page(429, retry_after=limited.retry_after)
    flash(gettext("A new link is on its way; earlier links no longer work."), "success")
    return redirect(url_for("mailproof.unconfirmed"))


def _restart_signup_wait(email: str) -> None:
    """Start the wait again when this browser asked anew for the address it signed up with."""
    signed_up = signup_address()
    if signed_up is not None and address_key(signed_up[0]) == address_key(email.strip()):
        keep_signup_address(signed_up[0], utcnow())
