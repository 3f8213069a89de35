"""Sign in by mail: the request, the mailed link's one-button page, and the code form."""

from __future__ import annotations

import functools
import typing as t

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from ..errors import (
    CodeExpired,
    CodeInvalid,
    InvalidAddress,
    OtherDevice,
    RateLimited,
    TokenError,
    TokenExpired,
    TokenInvalid,
)
from ..flows import email_login
from ..guards import counting_failures
from ..i18n import gettext
from ..sessions import begin_session, logged_in_account_id, login_device, signup_receipt
from ..settings import CodeMode, PasswordlessMode
from ..state import current_state
from .blueprint import bp
from .forms import EmailForm, LoginCodeForm, LoginLinkForm
from .limits import limit_per_ip, too_many_requests
from .pages import FORM_ERROR_STATUS, add_field_error, is_safe_next, keep_referrer_on_site, page

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def passwordless_required(view: F) -> F:
    """Answer 404 where ``MAILPROOF_PASSWORDLESS`` is ``"off"``: the pages do not exist then."""

    @functools.wraps(view)
    def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if current_state().settings.passwordless is PasswordlessMode.OFF:
            abort(404)
        return view(*args, **kwargs)

    return t.cast("F", wrapped)


def _codes_on() -> bool:
    return current_state().settings.verification_codes is not CodeMode.OFF


def _safe_next() -> str:
    target = request.args.get("next")
    return target if target is not None and is_safe_next(target) else ""


@bp.route("/login/email", methods=["GET", "POST"])
@passwordless_required
@limit_per_ip("login_link")
def login_email() -> Response:
    form = EmailForm()
    next_url = _safe_next()
    if form.validate_on_submit():
        try:
            email_login.request_login_link(
                form.email.data,
                # Every request gets the nonce, account or not: the cookie tells nothing.
                device=login_device(create=True) or "",
                next_url=next_url,
                user_agent=request.user_agent.string,
            )
        except InvalidAddress as error:
            add_field_error(form.email, error.reason)
        else:
            # The same answer, headers and cookies for every address, known or not.
            flash(
                gettext(
                    "If an account has that address, a sign-in link is on its way. Open it in "
                    "this browser."
                ),
                "info",
            )
            return keep_referrer_on_site(redirect(url_for("mailproof.login_email_sent")))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("login_email.html", status, form=form, next_url=next_url or None)


@bp.route("/login/email/sent")
@passwordless_required
def login_email_sent() -> Response:
    return page("login_email_sent.html", code_form=LoginCodeForm() if _codes_on() else None)


@bp.route("/login/email/code", methods=["GET", "POST"])
@passwordless_required
def login_email_code() -> Response:
    if not _codes_on():
        abort(404)
    form = LoginCodeForm()
    if form.validate_on_submit():
        try:
            # A wrong code counts as a failed login, per IP and per address.
            with counting_failures(form.email.data):
                done = email_login.sign_in_with_code(
                    form.email.data,
                    form.code.data,
                    receipt=signup_receipt(),
                    logged_in_as=logged_in_account_id(),
                )
        except RateLimited as limited:
            return too_many_requests(limited.retry_after)
        except CodeInvalid:
            # Also a code past its tries, and an unknown address: one answer for all three.
            add_field_error(
                form.code, gettext("This code is not right, or it had too many wrong tries.")
            )
        except CodeExpired:
            add_field_error(form.code, gettext("This code has expired; ask for a new one."))
        else:
            return _signed_in(done)
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("login_email_code.html", status, form=form)


# ``/login/email/<token>``: static routes above win over this one in Werkzeug's matching.
@bp.route("/login/email/<path:token>", methods=["GET", "POST"])
@passwordless_required
def login_email_link(token: str) -> Response:
    return keep_referrer_on_site(_link_page(token))


def _link_page(token: str) -> Response:
    # A GET (and HEAD) only shows a button: mail scanners open links, and must use none up.
    form = LoginLinkForm()
    try:
        if not form.validate_on_submit():
            preview = email_login.check_login_link(token, device=login_device())
            return page("login_email_link.html", form=form, token=token, preview=preview)
        done = email_login.sign_in_with_link(
            token,
            device=login_device(),
            other_device=bool(form.other_device.data),
            receipt=signup_receipt(),
            logged_in_as=logged_in_account_id(),
        )
    except OtherDevice:
        add_field_error(form.other_device, gettext("Tick this to sign in on this device."))
        preview = email_login.check_login_link(token, device=login_device())
        return page(
            "login_email_link.html", FORM_ERROR_STATUS, form=form, token=token, preview=preview
        )
    except TokenError as error:
        return _link_problem(error)
    return _signed_in(done)


def _signed_in(done: email_login.SignIn) -> Response:
    # A fresh session: nothing planted in the cookie before survives (no fixation).
    begin_session(done.user, remember=False, method=done.method)
    if done.created:
        flash(gettext("Welcome: your account is created, and you are signed in."), "success")
    elif done.password_removed:
        flash(
            gettext(
                "You are signed in, and your address is confirmed. The account was signed up "
                "for from another browser, so its password was removed: we sent you a link to "
                "choose one."
            ),
            "success",
        )
    elif done.confirmed_now:
        flash(gettext("You are signed in, and your address is confirmed."), "success")
    else:
        flash(gettext("You are signed in."), "success")
    if done.next_url and is_safe_next(done.next_url):
        return redirect(done.next_url)
    return redirect(url_for(current_state().settings.post_login_endpoint))


def _link_problem(error: TokenError) -> Response:
    if isinstance(error, TokenInvalid):
        status, title = 404, gettext("This link does not work")
        message = gettext("It may be incomplete.")
    elif isinstance(error, TokenExpired):
        status, title = 410, gettext("This link has expired")
        message = gettext("Sign-in links work for a short while.")
    else:
        status, title = 410, gettext("This link no longer works")
        message = gettext(
            "It was used, or a newer one was sent, or the account's password, address or "
            "sessions changed since."
        )
    return page("login_email_problem.html", status, title=title, message=message)
