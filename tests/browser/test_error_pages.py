"""The demo's error pages in a German browser: the site's layout, German words, no barriers."""

from __future__ import annotations

import typing as t

from .site import Site


def test_unknown_page_is_german_in_the_demo_layout(open_site: t.Callable[..., Site]) -> None:
    site = open_site(locale="de-DE")

    status = site.goto("/gibt-es-nicht")

    assert status == 404
    site.expect_heading("Seite nicht gefunden")
    assert site.page.locator("html").get_attribute("lang") == "de"
    site.follow("Mailproof-Demo")
    assert site.path == "/"


def test_failure_is_german_in_the_demo_layout(open_site: t.Callable[..., Site]) -> None:
    site = open_site(locale="de-DE", PROPAGATE_EXCEPTIONS=False)

    def fails() -> str:
        raise RuntimeError("a bug")

    site.app.add_url_rule("/fails", view_func=fails)

    status = site.goto("/fails")

    assert status == 500
    site.expect_heading("Etwas ist schiefgegangen")
    assert "a bug" not in site.page.content()
    assert site.page.get_by_role("link", name="Kontakt").count() == 1
