"""Registration, login, logout and the profile page."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..clock import utcnow
from ..errors import InvalidAddress, InvalidCredentials, PasswordRejected, RateLimited
from ..flows.login import authenticate
from ..flows.login_sessions import end_every_login_session
from ..flows.registration import register_user
from ..guards import counting_failures
from ..i18n import gettext
from ..sessions import begin_session, end_session, keep_signup_address, keep_signup_receipt
from ..state import current_state
from .blueprint import bp
from .forms import ButtonForm, LoginForm, RegisterAddressForm, RegisterForm
from .gating import confirmed_required
from .limits import limit_per_ip, too_many_requests
from .pages import FORM_ERROR_STATUS, add_field_error, is_safe_next, page, show_flow_error


@bp.route("/register", methods=["GET", "POST"])
@limit_per_ip("signup")
def register() -> Response:
    # MAILPROOF_PASSWORDLESS = "only": the address alone; its mailbox is the only credential.
    with_password = current_state().settings.passwords_enabled
    form = RegisterForm() if with_password else RegisterAddressForm()
    if form.validate_on_submit():
        try:
            password = form.password.data if with_password else None
            receipt = register_user(form.email.data, password)
        except (InvalidAddress, PasswordRejected) as error:
            show_flow_error(form, error)
        else:
            keep_signup_receipt(receipt)
            keep_signup_address(form.email.data.strip(), utcnow())
            # The same answer whether or not the address had an account: nobody is logged in.
            # The page it leads to says "check your inbox", once.
            return redirect(url_for("mailproof.unconfirmed"))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("register.html", status, form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    next_url = request.args.get("next")
    if not current_state().settings.passwords_enabled:
        return _login_by_mail_only(next_url)
    form = LoginForm()
    if form.validate_on_submit():
        # Failures count per IP (here) and per address (in the flow); a success resets neither.
        try:
            with counting_failures():
                user = authenticate(form.email.data, form.password.data)
        except InvalidCredentials:
            add_field_error(form.password, gettext("Wrong address or password."))
        except RateLimited as limited:
            return too_many_requests(limited.retry_after)
        else:
            begin_session(user, remember=form.remember.data)
            if is_safe_next(next_url):
                return redirect(next_url)  # type: ignore[arg-type]
            return redirect(url_for(current_state().settings.post_login_endpoint))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page(
        "login.html", status, form=form, next_url=next_url if is_safe_next(next_url) else None
    )


def _login_by_mail_only(next_url: str | None) -> Response:
    """The login page with no password field: a password cannot be posted, only mail asked for."""
    if request.method == "POST":
        abort(404)
    safe_next = next_url if is_safe_next(next_url) else None
    return page("login_by_mail.html", next_url=safe_next)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if not ButtonForm().validate_on_submit():
        return _logout_failed()
    end_session()
    flash(gettext("You are logged out."), "info")
    return redirect(current_state().settings.post_logout_url)


@bp.route("/logout-everywhere", methods=["POST"])
@login_required  # type: ignore[untyped-decorator]  # Flask-Login ships no types
def logout_everywhere() -> Response:
    if not ButtonForm().validate_on_submit():
        return _logout_failed()
    end_every_login_session(current_user._get_current_object())
    end_session()
    flash(gettext("You are logged out on every device."), "info")
    return redirect(current_state().settings.post_logout_url)


def _logout_failed() -> Response:
    return page(
        "error.html", 400, title=gettext("Logging out failed"), message=gettext("Please try again.")
    )


@bp.route("/profile")
@confirmed_required
def profile() -> Response:
    return page("profile.html", user=current_user)
