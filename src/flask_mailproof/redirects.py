"""Where a login may send the browser next: same-site paths only (no open redirects).

Shared by the HTML views, the JSON API and the flows that carry a ``next`` through a mail.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["is_safe_next"]


def is_safe_next(target: str | None) -> bool:
    """Tell whether ``target`` is a same-site path we may redirect to after login.

    Browsers read ``/\\evil``, ``\\\\evil`` and ``//evil`` as other hosts and drop tabs and
    line breaks inside URLs, so anything but a plain absolute path is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
