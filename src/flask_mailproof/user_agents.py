"""Name the browser family a ``User-Agent`` header claims, for mail that says where a request
came from ("Firefox", "Chrome"...).

Only the family: a version or platform says more about a person than the mail needs, and the
header is the requester's to set, so it is shown as a hint, never trusted.
"""

from __future__ import annotations

import re

__all__ = ["browser_family"]

#: Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_FAMILIES = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)


def browser_family(user_agent: str | None) -> str | None:
    """Return the browser family ``user_agent`` names, or ``None`` for anything else."""
    if not user_agent:
        return None
    head = user_agent[:512]  # a long header is junk, and regexes need not read it all
    for family, pattern in _FAMILIES:
        if pattern.search(head):
            return family
    return None
