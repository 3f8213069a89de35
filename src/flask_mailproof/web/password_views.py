"""Password reset (the request, the mailed link's form) and password change."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..errors import (
    FreshLoginRequired,
    InvalidAddress,
    InvalidCredentials,
    PasswordRejected,
    RateLimited,
    TokenError,
    TokenExpired,
    TokenInvalid,
    TokenSuperseded,
)
from ..flows import password_change, password_reset
from ..flows.reauthentication import proves_by_mailbox
from ..guards import counting_failures, fresh_mailbox_proof
from ..i18n import gettext
from ..sessions import begin_session, end_session
from .blueprint import bp
from .forms import ChangePasswordForm, EmailForm, PasswordResetForm, SetPasswordForm
from .gating import confirmed_required
from .limits import limit_per_ip, too_many_requests
from .pages import (
    FORM_ERROR_STATUS,
    add_field_error,
    fresh_login_page,
    keep_referrer_on_site,
    page,
    show_flow_error,
)

#: Session key holding the reset token while its form is shown.
_SESSION_KEY = "mailproof_reset_token"
#: Stands for the token in the address bar once it is in the session (Django's way), so the
#: token leaves neither through the ``Referer`` nor through the browser's history.
SESSION_TOKEN = "set-password"  # noqa: S105 (a URL placeholder, not a secret)


@bp.route("/reset", methods=["GET", "POST"])
@limit_per_ip("reset")
def reset_request() -> Response:
    form = EmailForm()
    if form.validate_on_submit():
        try:
            password_reset.request_password_reset(form.email.data)
        except InvalidAddress as error:
            show_flow_error(form, error)
        else:
            # The same answer, headers and cookies for every address, known or not.
            flash(
                gettext(
                    "If an account has that address, a link to reset its password is on its way."
                ),
                "info",
            )
            return keep_referrer_on_site(redirect(url_for("mailproof.login")))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return keep_referrer_on_site(page("reset_request.html", status, form=form))


@bp.route("/reset/<path:token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    if token != SESSION_TOKEN and request.method == "GET":
        # Opening the link uses nothing up: it only moves the token out of the URL.
        session[_SESSION_KEY] = token
        return keep_referrer_on_site(redirect(url_for(".reset_password", token=SESSION_TOKEN)))
    # A POST straight to the link's URL works too (the contract's /reset/<token>).
    held = session.get(_SESSION_KEY, "") if token == SESSION_TOKEN else token
    return keep_referrer_on_site(_reset_form(held, action_token=token))


def _reset_form(token: str, *, action_token: str) -> Response:
    form = PasswordResetForm()
    try:
        # Read first, changing nothing: the page asks an account without a password to set
        # its first one, and a bad link gets its page before any form error.
        user = password_reset.check_reset_token(token)
        if form.validate_on_submit():
            password_reset.reset_password(token, form.password.data)
            # A fresh session, as at login: nothing planted before the reset survives it.
            end_session()
            flash(
                gettext(
                    "Your password is set, and every session of your account has ended. Log in."
                ),
                "success",
            )
            return redirect(url_for("mailproof.login"))
    except TokenError as error:
        return _reset_link_problem(error)
    except PasswordRejected as error:
        show_flow_error(form, error)
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    first = user.password_hash is None
    return page("reset_password.html", status, form=form, token=action_token, first_password=first)


def _reset_link_problem(error: TokenError) -> Response:
    status = 404 if isinstance(error, TokenInvalid) else 410
    if isinstance(error, TokenInvalid):
        title, message = gettext("This link does not work"), gettext("It may be incomplete.")
    elif isinstance(error, TokenExpired):
        title = gettext("This link has expired")
        message = gettext("Reset links work for a while.")
    elif isinstance(error, TokenSuperseded):
        title, message = gettext("A newer link was sent"), gettext("Only the latest link works.")
    else:
        title = gettext("This link was used")
        message = gettext("The password, the address or a login changed since it was sent.")
    return page("reset_problem.html", status, title=title, message=message)


@bp.route("/change-password", methods=["GET", "POST"])
@confirmed_required
def change_password() -> Response:
    user = current_user._get_current_object()
    # An account without a password sets its first one here, after a fresh sign-in by mail.
    by_mailbox = proves_by_mailbox(user)
    if by_mailbox and not fresh_mailbox_proof():
        return fresh_login_page()
    form = SetPasswordForm() if by_mailbox else ChangePasswordForm()
    if form.validate_on_submit():
        typed = None if by_mailbox else form.current_password.data
        try:
            with counting_failures(user.email):
                password_change.change_password(
                    user, typed, form.password.data, mailbox_proven=fresh_mailbox_proof()
                )
        except RateLimited as limited:
            return too_many_requests(limited.retry_after)
        except FreshLoginRequired:
            return fresh_login_page()
        except InvalidCredentials:
            # Without the field: the account got a password since this form was shown.
            field = getattr(form, "current_password", form.password)
            add_field_error(field, gettext("This is not your current password."))
        except PasswordRejected as error:
            show_flow_error(form, error)
        else:
            # Every other session ended with the stamp; this one continues in a fresh session.
            begin_session(user, remember=False)
            flash(gettext("Your password is changed; every other session has ended."), "success")
            return redirect(url_for("mailproof.profile"))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("change_password.html", status, form=form, first_password=by_mailbox)
