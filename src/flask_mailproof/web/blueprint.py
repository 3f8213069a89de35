"""The blueprint every HTML view of the extension is registered on."""

from __future__ import annotations

import typing as t

from flask import Blueprint, abort, g, request

from ..i18n import current_language
from ..links import is_served
from ..state import current_state

#: Named ``mailproof``; its templates live in the package's ``templates/mailproof``, its
#: optional stylesheet at ``url_for("mailproof.static", filename="mailproof.css")``.
bp = Blueprint(
    "mailproof",
    "flask_mailproof",
    template_folder="templates",
    static_folder="static",
    static_url_path="/_mailproof/static",
)


@bp.app_context_processor
def _template_helpers() -> dict[str, t.Any]:
    # Pages link to optional flows (reset, email change) only where the app serves them, and
    # state limits (password length...) from the settings, never from app.config.
    return {
        "mailproof_has": is_served,
        "mailproof_settings": current_state().settings,
        # For <html lang> of pages and mails.
        "mailproof_lang": current_language(),
    }


@bp.before_request
def _refuse_removed_pages() -> None:
    # MAILPROOF_PASSWORDLESS = "only": the password pages are gone, as if never registered.
    if request.endpoint is not None and not is_served(request.endpoint):
        abort(404)


@bp.app_template_global()
def mailproof_take_focus() -> bool:
    """Tell whether the field asking is the page's first with an error: that one takes the focus.

    Every field shows its errors at once, and a page may autofocus one element only.
    """
    if g.get("_mailproof_focus_taken"):
        return False
    g._mailproof_focus_taken = True
    return True
