"""The blueprint every HTML view of the extension is registered on."""

from __future__ import annotations

import typing as t

from flask import Blueprint, current_app

from ..i18n import current_language
from ..state import current_state

#: Named ``mailproof``; its templates live in the package's ``templates/mailproof``.
bp = Blueprint("mailproof", "flask_mailproof", template_folder="templates")


@bp.app_context_processor
def _template_helpers() -> dict[str, t.Any]:
    # Pages link to optional flows (reset, email change) only where the app serves them, and
    # state limits (password length...) from the settings, never from app.config.
    return {
        "mailproof_has": lambda endpoint: endpoint in current_app.view_functions,
        "mailproof_settings": current_state().settings,
        # For <html lang> of pages and mails.
        "mailproof_lang": current_language(),
    }
