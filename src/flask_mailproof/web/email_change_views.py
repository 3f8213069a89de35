"""Email change: the request, the new address's link, the old address's undo link."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from ..errors import (
    AddressTaken,
    FreshLoginRequired,
    InvalidAddress,
    InvalidCredentials,
    RateLimited,
    TokenError,
    TokenExpired,
    TokenInvalid,
    TokenSuperseded,
)
from ..flows import email_change
from ..flows.reauthentication import proves_by_mailbox
from ..guards import counting_failures, fresh_mailbox_proof
from ..i18n import gettext
from .blueprint import bp
from .forms import ButtonForm, ChangeEmailByMailboxForm, ChangeEmailForm
from .limits import limit_per_ip, too_many_requests
from .pages import (
    FORM_ERROR_STATUS,
    add_field_error,
    fresh_login_page,
    keep_referrer_on_site,
    page,
    show_flow_error,
)


@bp.route("/change-email", methods=["GET", "POST"])
@limit_per_ip("email_change")
@login_required  # type: ignore[untyped-decorator]  # Flask-Login ships no types
def change_email() -> Response:
    user = current_user._get_current_object()
    # Without a password, a fresh sign-in by mail stands in for it (flows.reauthentication).
    by_mailbox = proves_by_mailbox(user)
    if by_mailbox and not fresh_mailbox_proof():
        return fresh_login_page()
    form = ChangeEmailByMailboxForm() if by_mailbox else ChangeEmailForm()
    if form.validate_on_submit():
        typed = None if by_mailbox else form.current_password.data
        try:
            with counting_failures(user.email):
                address = email_change.request_email_change(
                    user, form.email.data, typed, mailbox_proven=fresh_mailbox_proof()
                )
        except FreshLoginRequired:
            return fresh_login_page()
        except InvalidCredentials:
            field = getattr(form, "current_password", form.email)
            add_field_error(field, gettext("This is not your current password."))
        except InvalidAddress as error:
            show_flow_error(form, error)
        except RateLimited as limited:
            return too_many_requests(limited.retry_after)
        else:
            # The same answer whether or not the new address has an account.
            flash(
                gettext(
                    "A link is on its way to %(email)s; your address changes when you use it.",
                    email=address.email,
                )
            )
            after = "mailproof.profile" if user.is_confirmed else "mailproof.unconfirmed"
            return redirect(url_for(after))
    status = FORM_ERROR_STATUS if form.is_submitted() else 200
    return page("change_email.html", status, form=form, user=user)


def _link_problem(error: TokenError, expired: str) -> Response:
    """Explain why a link cannot be used; ``expired`` says how long such links work."""
    if isinstance(error, TokenInvalid):
        title, message = gettext("This link does not work"), gettext("It may be incomplete.")
        return page("error.html", 404, title=title, message=message)
    if isinstance(error, TokenExpired):
        return page("error.html", 410, title=gettext("This link has expired"), message=expired)
    if isinstance(error, TokenSuperseded):
        message = gettext("A newer address change was asked for since; only its link works.")
        return page("error.html", 410, title=gettext("A newer link was sent"), message=message)
    message = gettext("The account's address is no longer the one this link was made for.")
    return page("error.html", 410, title=gettext("This link was used"), message=message)


def _address_taken() -> Response:
    message = gettext("Another account has this address now, so the change cannot be made.")
    return page("error.html", 409, title=gettext("This address is taken"), message=message)


@bp.route("/change-email/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str) -> Response:
    # The GET only shows a button: mail scanners open links, and must not change anything.
    form = ButtonForm()
    try:
        if not form.validate_on_submit():
            user, address = email_change.check_email_change(token)
            response = page(
                "change_email_confirm.html", form=form, token=token, email=address.email
            )
            return keep_referrer_on_site(response)
        user = email_change.confirm_email_change(token)
    except TokenError as error:
        return keep_referrer_on_site(
            _link_problem(error, gettext("Links that change an address work for a limited time."))
        )
    except AddressTaken:
        return keep_referrer_on_site(_address_taken())
    flash(gettext("Your address is now %(email)s.", email=user.email), "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("mailproof.profile"))
    return redirect(url_for("mailproof.login"))


@bp.route("/change-email/undo/<token>", methods=["GET", "POST"])
def revert_email_change(token: str) -> Response:
    form = ButtonForm()
    try:
        if not form.validate_on_submit():
            user, address = email_change.check_email_revert(token)
            response = page("change_email_undo.html", form=form, token=token, email=address.email)
            return keep_referrer_on_site(response)
        user = email_change.revert_email_change(token)
    except TokenError as error:
        return keep_referrer_on_site(
            _link_problem(error, gettext("Links that undo a change work for a limited time."))
        )
    except AddressTaken:
        return keep_referrer_on_site(_address_taken())
    if current_user.is_authenticated and current_user.id == user.id:
        logout_user()
    flash(
        gettext(
            "Your address is %(email)s again and every session has ended. If someone else "
            "changed it, they may know your password: set a new one now.",
            email=user.email,
        ),
        "success",
    )
    return redirect(url_for("mailproof.reset_request"))
