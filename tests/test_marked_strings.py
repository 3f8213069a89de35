"""Every user-facing string of the extension is marked for translation.

Templates: no words outside ``{% trans %}`` blocks and ``_()`` calls. Python: no string literal
handed straight to ``flash``, a field error, or an exception whose text is shown.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from jinja2 import Environment

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "flask_mailproof"
TEMPLATES = sorted((PACKAGE / "templates").rglob("*.*"))
_TAG = re.compile(r"<[^>]*>|&[a-z]+;|&#\d+;")
_WORD = re.compile(r"[A-Za-z]{2,}")
#: Calls whose first argument (or ``title=``/``message=``) is shown to people.
SHOWN = {
    "flash",
    "add_field_error",
    "ValidationError",
    "PasswordRejected",
    "InvalidAddress",
    "InvalidContactField",
}
#: Of those, the calls whose message is their last argument (after a field).
_LAST_ARGUMENT = {"add_field_error", "InvalidContactField"}


def unmarked_text(source: str) -> list[str]:
    """Return the words of a template that are outside every translation and HTML tag."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # only lexed
    outside, in_trans, previous = [], False, None
    for _, kind, value in env.lex(source):
        if kind == "name" and previous == "block_begin":
            if value == "trans":
                in_trans = True
            elif value == "endtrans":
                in_trans = False
        if kind == "data" and not in_trans:
            outside.append(value)
        elif not kind.startswith("comment"):
            # An expression or a tag: it may sit inside an HTML attribute, so keep a mark.
            outside.append("\x00")
        if kind != "whitespace":
            previous = kind
    return _WORD.findall(_TAG.sub(" ", "".join(outside)))


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_template_text_is_marked(path: Path) -> None:
    assert unmarked_text(path.read_text()) == []


def test_the_check_finds_unmarked_text() -> None:
    source = "<p>{{ _('Fine') }} {% trans %}Fine too{% endtrans %} Forgotten</p>"

    assert unmarked_text(source) == ["Forgotten"]


def literal_messages(source: str) -> list[str]:
    """Return string literals passed as shown messages in Python ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        shown = []
        if name in SHOWN and node.args:
            shown.append(node.args[-1] if name in _LAST_ARGUMENT else node.args[0])
        shown += [k.value for k in node.keywords if k.arg in ("title", "message")]
        found += [ast.unparse(a) for a in shown if isinstance(a, (ast.Constant, ast.JoinedStr))]
    return found


#: The JSON API answers in English: its ``message`` is for the developer reading the response,
#: and each error's stable ``code`` is what a client translates (flow reasons it passes on
#: are translated all the same).
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent.name != "api")


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_python_messages_are_marked(path: Path) -> None:
    assert literal_messages(path.read_text()) == []


def test_the_check_finds_literal_messages() -> None:
    source = "flash('Done.', 'info')\nflash(gettext('Done.'))\npage('e.html', title=f'{x}')"

    assert literal_messages(source) == ["'Done.'", "f'{x}'"]
