"""The confirmation link's page and button, the unconfirmed page, and resend."""

from __future__ import annotations

import math

from flask import flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..clock import utcnow
from ..errors import (
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
    resend_confirmation,
    resend_to_address,
)
from ..i18n import gettext, ngettext
from .blueprint import bp
from .forms import ButtonForm, EmailForm
from .limits import address_allowed, limit_per_ip
from .pages import FORM_ERROR_STATUS, page, show_flow_error


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
        confirm_email(token)
    except AlreadyConfirmed:
        flash(gettext("Your address is confirmed already; you can log in."), "info")
        return _after_confirmation()
    except (TokenInvalid, TokenExpired, TokenSuperseded) as error:
        return _token_problem_page(token, error)
    flash(gettext("Thank you: your address is confirmed."), "success")
    return _after_confirmation()


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
    except RateLimited as limited:
        flash(
            gettext(
                "A link was sent moments ago: check your inbox, or ask for another in "
                "%(seconds)d seconds.",
                seconds=limited.retry_after,
            ),
            "error",
        )
        return redirect(url_for("mailproof.unconfirmed"))
    flash(gettext("A fresh link is on its way: check your inbox."), "success")
    return redirect(url_for("mailproof.unconfirmed"))


def _unconfirmed_page(status: int = 200, retry_after: int | None = None) -> Response:
    user = current_user if current_user.is_authenticated else None
    wait_until = next_resend_at(user) if user is not None else None
    seconds = math.ceil((wait_until - utcnow()).total_seconds()) if wait_until else None
    response = page(
        "unconfirmed.html",
        status,
        user=user,
        form=ButtonForm(),
        email_form=EmailForm(),
        resend_wait=seconds,
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


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
            # Over the per-address limit the answer stays the same; only the mail is skipped.
            if address_allowed("resend", form.email.data):
                resend_to_address(form.email.data)
        except InvalidAddress as error:
            show_flow_error(form, error)
        else:
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
    except RateLimited as limited:
        flash(
            ngettext(
                "A link was sent moments ago; you can ask for another in %(num)d second.",
                "A link was sent moments ago; you can ask for another in %(num)d seconds.",
                limited.retry_after,
            ),
            "error",
        )
        return _unconfirmed_page(429, retry_after=limited.retry_after)
    flash(gettext("A new link is on its way; earlier links no longer work."), "success")
    return redirect(url_for("mailproof.unconfirmed"))
