"""``Site``: drive the demo as a person would, and check every page it loads with axe-core.

Tests speak in what a person sees: labels, button and link names, the development mailbox.
Extending the suite to a new flow needs no new helper: ``site.fill``, ``site.press``,
``site.follow`` and ``site.follow_mail_link`` cover forms, buttons and mailed links.
"""

from __future__ import annotations

import re
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

if t.TYPE_CHECKING:
    from flask import Flask

#: axe-core's browser build, installed by ``npm ci --prefix tests/browser``.
AXE_PATH = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
#: Violations at these levels fail a test.
BLOCKING_IMPACTS = ("serious", "critical")
#: Rule sets checked: WCAG 2.x A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


class AccessibilityError(AssertionError):
    """axe-core found serious or critical violations on a page."""


class Site:
    """One browser context on one running demo."""

    def __init__(self, context: BrowserContext, url: str, app: Flask, *, audit: bool) -> None:
        self.context = context
        self.url = url
        self.app = app
        self._audit = audit
        if audit:
            context.add_init_script(path=str(AXE_PATH))
        self.page: Page = context.new_page()
        #: Every document checked with axe-core, as ``path`` strings, in order.
        self.audited: list[str] = []

    def close(self) -> None:
        self.context.close()

    # Moving around -----------------------------------------------------------------------

    def goto(self, path: str) -> int:
        """Open ``path`` (or a full URL); return the HTTP status."""
        response = self.page.goto(path)
        self.audit()
        return response.status if response is not None else 0

    def press(self, name: str) -> None:
        """Press the button called ``name`` and wait for the next page."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=name, exact=True).click()
        self.audit()

    def follow(self, name: str) -> None:
        """Click the link called ``name`` and wait for the next page."""
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=name, exact=True).first.click()
        self.audit()

    def fill(self, label: str, value: str) -> None:
        """Type ``value`` into the field whose label is ``label``."""
        self.page.get_by_label(label, exact=True).fill(value)

    def submit_form(self, button: str, **fields: str) -> None:
        """Fill fields by label (``fields`` maps labels to values) and press ``button``."""
        for label, value in fields.items():
            self.fill(label, value)
        self.press(button)

    @property
    def path(self) -> str:
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    # What is on the page -------------------------------------------------------------------

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text().strip()

    def flashes(self) -> list[str]:
        return [text.strip() for text in self.page.locator(".flash").all_inner_texts()]

    def expect_heading(self, text: str) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_text(text)

    def expect_flash(self, pattern: str) -> None:
        expect(self.page.locator(".flash").filter(has_text=re.compile(pattern))).to_have_count(1)

    def field_errors(self, label: str) -> list[str]:
        """Return the errors announced for a field: what its ``aria-describedby`` points at."""
        field = self.page.get_by_label(label, exact=True)
        assert field.get_attribute("aria-invalid") == "true", f"{label!r} is not marked invalid"
        ids = (field.get_attribute("aria-describedby") or "").split()
        errors = [i for i in ids if i.endswith("-error")]
        assert errors, f"{label!r} points at no error"
        return self.page.locator(f"#{errors[0]} li").all_inner_texts()

    # The development mailbox ----------------------------------------------------------------

    def open_newest_mail(self, to: str, subject: str | None = None) -> None:
        """Open ``/_mail`` and the newest mail to ``to`` (whose subject has ``subject``)."""
        self.goto("/_mail")
        rows = self.page.locator("table.mailbox tbody tr").filter(
            has=self.page.get_by_role("cell", name=to, exact=True)
        )
        if subject is not None:
            rows = rows.filter(has_text=subject)
        assert rows.count() > 0, f"no mail to {to} ({subject or 'any subject'})"
        with self.page.expect_navigation():
            rows.first.get_by_role("link").click()
        self.audit()

    def mail_links(self) -> list[str]:
        """Return the links of the mail open in the mailbox."""
        return self.page.locator("ul.links a").all_inner_texts()

    def follow_mail_link(self, to: str, path_prefix: str, subject: str | None = None) -> str:
        """Open the newest mail to ``to`` and follow its link starting with ``path_prefix``.

        Returns the link, which must start with the site's base URL.
        """
        self.open_newest_mail(to, subject)
        links = [u for u in self.mail_links() if urlsplit(u).path.startswith(path_prefix)]
        assert len(links) == 1, f"expected one {path_prefix} link, got {self.mail_links()}"
        assert links[0].startswith(self.url + "/"), links[0]
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=links[0], exact=True).click()
        self.audit()
        return links[0]

    def press_mailed_button(
        self, to: str, path_prefix: str, button: str, subject: str | None = None
    ) -> str:
        """Do what a person does with a mailed link: open the newest mail to ``to``, follow its
        ``path_prefix`` link and press ``button`` on the page. Returns the link."""
        link = self.follow_mail_link(to, path_prefix, subject)
        self.press(button)
        return link

    def mail_count(self, to: str) -> int:
        self.goto("/_mail")
        cells = self.page.locator("table.mailbox tbody tr").filter(
            has=self.page.get_by_role("cell", name=to, exact=True)
        )
        return cells.count()

    # Accessibility ------------------------------------------------------------------------

    def audit(self) -> None:
        """Run axe-core on the current document, once per document; fail on serious issues."""
        if not self._audit:
            return
        self.page.wait_for_load_state("load")
        # A mark on the window: a new document has none, so each is checked exactly once.
        results = self.page.evaluate(
            """tags => {
                if (window.__axeChecked) return null;
                window.__axeChecked = true;
                return axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
            }""",
            AXE_TAGS,
        )
        if results is None:
            return
        self.audited.append(self.path)
        blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            raise AccessibilityError(_describe(self.path, blocking))

    # Screenshots ---------------------------------------------------------------------------

    def screenshot(self, folder: Path | None, name: str, *, width: int = 1000) -> None:
        """Save the page as ``folder/name.png`` when screenshots were asked for."""
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        self.page.set_viewport_size({"width": width, "height": 760})
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        self.page.set_viewport_size({"width": 1000, "height": 760})


def _describe(path: str, violations: list[dict[str, t.Any]]) -> str:
    lines = [f"axe-core on {path}:"]
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
        lines.extend(f"      {node['html'][:160]}" for node in violation["nodes"][:5])
    return "\n".join(lines)
