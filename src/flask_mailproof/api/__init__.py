"""The JSON API: every flow's twin under ``/api``, for single-page and mobile front ends.

Needs the ``api`` extra (pydantic and spectree). Enable it next to the extension::

    from flask_mailproof.api import MailproofAPI

    mailproof.init_app(app)
    MailproofAPI(app)
"""

from __future__ import annotations

from .extension import MailproofAPI as MailproofAPI
