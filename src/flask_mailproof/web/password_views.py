"""Password reset (the request, the mailed link's form) and password change."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..errors import (
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
from ..guards import counting_failures
from ..i18n import gettext
from ..sessions import begin_session, end_session
from .blueprint import bp
from .forms import ChangePasswordForm, EmailForm, PasswordResetForm
from .gating import confirmed_required
from .limits import limit_per_ip, too_many_requests
from .pages import (
    FORM_ERROR_STATUS,
    add_field_error,
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
        password_reset.check_reset_token(token)
    except TokenError as error:
        return _reset_link_problem(error)
    except PasswordRejected as error:
        show_flow_error(form, error)
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("reset_password.html", status, form=form, token=action_token)


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
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            with counting_failures(user.email):
                password_change.change_password(
                    user, form.current_password.data, form.password.data
                )
        except RateLimited as limited:
            return too_many_requests(limited.retry_after)
        except InvalidCredentials:
            add_field_error(form.current_password, gettext("This is not your current password."))
        except PasswordRejected as error:
            show_flow_error(form, error)
        else:
            # Every other session ended with the stamp; this one continues in a fresh session.
            begin_session(user, remember=False)
            flash(gettext("Your password is changed; every other session has ended."), "success")
            return redirect(url_for("mailproof.profile"))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("change_password.html", status, form=form)
