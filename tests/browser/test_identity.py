"""The demo's face: a logo mark that screen readers skip, one clear primary action, no overflow."""

from __future__ import annotations

from playwright.sync_api import expect

from .site import Site

PHONE = {"width": 375, "height": 740}
ACCENT = "rgb(29, 78, 216)"


def test_brand_is_a_mark_and_a_name_read_as_the_name(site: Site) -> None:
    site.goto("/")

    brand = site.page.get_by_role("link", name="Mailproof demo", exact=True)
    expect(brand).to_be_visible()
    mark = brand.locator("svg")
    expect(mark).to_have_attribute("aria-hidden", "true")
    assert mark.bounding_box()["width"] > 0


def test_header_offers_sign_up_as_its_primary_action(site: Site) -> None:
    site.goto("/login")

    register = site.page.locator("header").get_by_role("link", name="Register", exact=True)
    assert register.evaluate("a => getComputedStyle(a).backgroundColor") == ACCENT
    login = site.page.locator("header").get_by_role("link", name="Log in", exact=True)
    assert login.evaluate("a => getComputedStyle(a).backgroundColor") != ACCENT


def test_pages_fit_a_phone(site: Site) -> None:
    site.page.set_viewport_size(PHONE)
    for path in ("/", "/register", "/login", "/contact"):
        site.goto(path)
        width = site.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a phone"
