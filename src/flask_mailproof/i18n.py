"""Translations: the extension's own catalogs, merged into the application's Flask-Babel.

An application that already set up Flask-Babel keeps its locale selector, so it decides the
language of the extension's pages and mails too; its own catalogs win over ours for a message
both translate. An application without Flask-Babel gets one, choosing from the browser's
``Accept-Language`` among ``MAILPROOF_LOCALES``. Initialise Flask-Babel before the extension, so
that the application's locale selector is the one in place.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import flask_babel
from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale, get_babel, get_locale

#: Where the compiled catalogs (``<locale>/LC_MESSAGES/messages.mo``) are shipped.
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
#: The gettext domain of the extension's catalogs.
DOMAIN = "messages"


def gettext(string: str, **variables: t.Any) -> str:
    """Translate ``string`` into the current request's language, then ``%``-format it."""
    return t.cast("str", flask_babel.gettext(string, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: t.Any) -> str:
    """Translate the form of a message that fits ``num`` (available as ``%(num)d``)."""
    return t.cast("str", flask_babel.ngettext(singular, plural, num, **variables))


def lazy_gettext(string: str, **variables: t.Any) -> t.Any:
    """Translate ``string`` when it is shown, not now (for form labels and messages)."""
    return flask_babel.lazy_gettext(string, **variables)


def format_number(number: int) -> str:
    """Write ``number`` as the current language does (``5,000`` in English, ``5.000`` in German)."""
    if get_locale() is None:  # No application context: no language either.
        return f"{number:,}"
    return t.cast("str", flask_babel.format_number(number))


def site_language() -> t.ContextManager[None]:
    """Speak the application's default language inside ``with`` (mail to the site's own people).

    A mail to the site's owner is rendered in the request of someone else, whose browser may
    ask for another language.
    """
    return t.cast("t.ContextManager[None]", force_locale(get_babel().default_locale))


def N_(string: str) -> str:  # The name gettext tools look for.
    """Mark ``string`` for extraction without translating it (it is translated later)."""
    return string


def init_translations(app: Flask, locales: t.Sequence[str]) -> None:
    """Make the extension's catalogs part of ``app``'s translations."""
    if "babel" not in app.extensions:
        Babel(app, locale_selector=lambda: _locale_from_browser(locales))
    add_catalogs(app)
    # An application that sets Flask-Babel up after the extension replaces its configuration;
    # the catalogs are added again on the first request that finds them missing.
    app.before_request(lambda: add_catalogs(app))
    if "gettext" not in app.jinja_env.globals:
        # An application whose Flask-Babel was told not to configure Jinja.
        app.jinja_env.add_extension("jinja2.ext.i18n")
        app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=gettext, ngettext=ngettext, newstyle=True
        )


def add_catalogs(app: Flask) -> None:
    """Put the extension's catalog directory first in ``app``'s Flask-Babel configuration."""
    config = get_babel(app)
    directory = str(TRANSLATIONS)
    if directory in config.translation_directories:
        return
    domains = config.default_domain.split(";")
    if len(domains) == 1:
        domains = domains * len(config.translation_directories)
    # Flask-Babel merges catalogs in order, later ones winning: the application's come after.
    config.translation_directories.insert(0, directory)
    config.default_domain = ";".join([DOMAIN, *domains])


def _locale_from_browser(locales: t.Sequence[str]) -> str | None:
    if not has_request_context():
        return None  # Flask-Babel's default locale (BABEL_DEFAULT_LOCALE, "en").
    return request.accept_languages.best_match(locales, default=locales[0])


def current_language() -> str:
    """Return the language of the current request, for ``<html lang>``."""
    locale = get_locale()
    return str(locale.language) if locale is not None else "en"
