"""Forms: parse and check the shape of input; the flows decide what it means."""

from __future__ import annotations

import typing as t

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from ..addresses import MAX_ADDRESS_LENGTH, REPLACEMENT_CHARACTER, parse_address
from ..contact_text import clean_contact_text
from ..errors import InvalidAddress, InvalidContactField, PasswordRejected
from ..i18n import gettext, lazy_gettext
from ..models import CONTACT_MESSAGE_MAX_LENGTH, CONTACT_NAME_MAX_LENGTH
from ..state import current_state


def _password_size(form: FlaskForm, field: Field) -> None:
    # Checked here, before any flow can hash it: a megabyte password costs nothing to refuse.
    limit = current_state().settings.password_max_bytes
    if len((field.data or "").encode("utf-8", "surrogatepass")) > limit:
        raise ValidationError(gettext("Use at most %(num)d bytes.", num=limit))


def _readable(form: FlaskForm, field: Field) -> None:
    # Bytes that were not UTF-8 arrive as U+FFFD: hashing or storing that would keep a value
    # the person never typed (and could never type again).
    if REPLACEMENT_CHARACTER in (field.data or ""):
        raise ValidationError(gettext("Part of this could not be read; type it again."))


# The flows' own checks of an address and of a new password, run here too, so that their
# refusals show with every other field's error at once instead of one per submission; the
# flows still check (deliverability, the stored address) and have the last word.


def _an_address(form: FlaskForm, field: Field) -> None:
    if field.errors:
        return  # a shape error already says what is wrong
    try:
        parse_address(field.data or "")
    except InvalidAddress as error:
        raise ValidationError(error.reason) from None


def _password_policy(form: FlaskForm, field: Field) -> None:
    if field.errors:
        return
    email = form.email.data if "email" in form else None
    try:
        current_state().passwords.check_policy(
            field.data or "", user_inputs=(email,) if email else ()
        )
    except PasswordRejected as error:
        raise ValidationError(error.reason) from None


def _email_field(label: t.Any = None, *, check_address: bool = False) -> t.Any:
    return EmailField(
        label or lazy_gettext("Email address"),
        validators=[
            DataRequired(lazy_gettext("Enter your email address.")),
            Length(
                max=MAX_ADDRESS_LENGTH,
                message=lazy_gettext("An address has at most %(num)d characters.", num=254),
            ),
            _readable,
            *([_an_address] if check_address else []),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def _new_password_fields(*, check_policy: bool = True) -> tuple[t.Any, t.Any]:
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[
            DataRequired(lazy_gettext("Choose a password.")),
            _password_size,
            _readable,
            *([_password_policy] if check_policy else []),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        lazy_gettext("Repeat the password"),
        validators=[
            DataRequired(lazy_gettext("Repeat the password.")),
            EqualTo("password", lazy_gettext("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class RegisterForm(FlaskForm):
    email = _email_field(check_address=True)
    password, password_confirm = _new_password_fields()


class RegisterAddressForm(FlaskForm):
    """Registration with ``MAILPROOF_PASSWORDLESS = "only"``: the address, nothing else."""

    email = _email_field(check_address=True)


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired(lazy_gettext("Enter your password.")), _password_size],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(lazy_gettext("Keep me logged in on this device"))


class EmailForm(FlaskForm):
    """A form asking for an address only (resend, reset request)."""

    email = _email_field()


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token: the button behind every mailed link."""


class LoginLinkForm(FlaskForm):
    """The button behind a sign-in link; in a browser that did not ask, with a confirmation."""

    other_device = BooleanField(
        lazy_gettext("I asked for this link myself, on another device, and I sign in here.")
    )


class LoginCodeForm(FlaskForm):
    """The address and the 6-digit code from a sign-in mail."""

    email = _email_field()
    code = StringField(
        lazy_gettext("Code from the mail"),
        validators=[
            DataRequired(lazy_gettext("Enter the code from the mail.")),
            Regexp(r"^[0-9]{6}$", message=lazy_gettext("The code has 6 digits.")),
        ],
        filters=[lambda value: value.strip().replace(" ", "") if isinstance(value, str) else value],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )


def _contact_text(name: str, max_length: int) -> t.Callable[[FlaskForm, Field], None]:
    # The flow's own rule, so every error shows at once; no ``maxlength`` attribute, because
    # browsers cut pasted text at it silently, and a cut message says what nobody wrote.
    def check(form: FlaskForm, field: Field) -> None:
        try:
            clean_contact_text(name, field.data or "", max_length)
        except InvalidContactField as error:
            raise ValidationError(error.reason) from None

    return check


class ContactForm(FlaskForm):
    """The contact form: who writes, from which address, and what."""

    name = StringField(
        lazy_gettext("Your name"),
        validators=[_contact_text("name", CONTACT_NAME_MAX_LENGTH)],
        render_kw={"autocomplete": "name"},
    )
    email = _email_field(lazy_gettext("Your email address"), check_address=True)
    message = TextAreaField(
        lazy_gettext("Message"),
        validators=[_contact_text("message", CONTACT_MESSAGE_MAX_LENGTH)],
        render_kw={"rows": 8},
    )


def _current_password_field() -> t.Any:
    return PasswordField(
        lazy_gettext("Current password"),
        validators=[
            DataRequired(lazy_gettext("Enter your current password.")),
            _password_size,
        ],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordResetForm(FlaskForm):
    """The new password, set through a reset link."""

    password, password_confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = _current_password_field()
    # The policy waits for the flow, which checks the current password first: a wrong guess
    # must count as a failed login whatever new password came with it.
    password, password_confirm = _new_password_fields(check_policy=False)


class SetPasswordForm(FlaskForm):
    """A first password, for an account without one that just signed in by an emailed link."""

    password, password_confirm = _new_password_fields()


class ChangeEmailForm(FlaskForm):
    # As for a new password: the current password is the flow's first check.
    email = _email_field(lazy_gettext("New email address"))
    current_password = _current_password_field()


class ChangeEmailByMailboxForm(FlaskForm):
    """The new address, for an account that proves itself by a fresh sign-in link instead."""

    email = _email_field(lazy_gettext("New email address"))
