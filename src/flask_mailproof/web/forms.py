"""Forms: parse and check the shape of input; the flows decide what it means."""

from __future__ import annotations

import typing as t

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..addresses import MAX_ADDRESS_LENGTH, REPLACEMENT_CHARACTER
from ..state import current_state


def _password_size(form: FlaskForm, field: Field) -> None:
    # Checked here, before any flow can hash it: a megabyte password costs nothing to refuse.
    limit = current_state().settings.password_max_bytes
    if len((field.data or "").encode("utf-8", "surrogatepass")) > limit:
        raise ValidationError(f"Use at most {limit} bytes.")


def _readable(form: FlaskForm, field: Field) -> None:
    # Bytes that were not UTF-8 arrive as U+FFFD: hashing or storing that would keep a value
    # the person never typed (and could never type again).
    if REPLACEMENT_CHARACTER in (field.data or ""):
        raise ValidationError("Part of this could not be read; type it again.")


def _email_field(label: str = "Email address") -> t.Any:
    return EmailField(
        label,
        validators=[
            DataRequired("Enter your email address."),
            Length(max=MAX_ADDRESS_LENGTH, message="An address has at most 254 characters."),
            _readable,
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def _new_password_fields() -> tuple[t.Any, t.Any]:
    password = PasswordField(
        "Password",
        validators=[DataRequired("Choose a password."), _password_size, _readable],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            DataRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class RegisterForm(FlaskForm):
    email = _email_field()
    password, password_confirm = _new_password_fields()


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), _password_size],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me logged in on this device")


class EmailForm(FlaskForm):
    """A form asking for an address only (resend, reset request)."""

    email = _email_field()


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token: the button behind every mailed link."""
