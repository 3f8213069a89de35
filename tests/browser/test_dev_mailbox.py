"""The development mailbox on a screen: the preview's links, its size, the listing's table."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .site import Site
from .steps import register

PHONE = {"width": 375, "height": 740}
LAPTOP = {"width": 1280, "height": 800}

#: Every word of the table's cells, with the number of line boxes it is laid out on.
_SPLIT_WORDS = """() => {
    const split = [];
    for (const cell of document.querySelectorAll("table.mailbox th, table.mailbox td")) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (lines.size > 1) split.push(match[0]);
            }
        }
    }
    return split;
}"""


def test_button_in_the_preview_opens_the_page_at_the_top_level(site: Site) -> None:
    register(site, "ada@example.com")
    site.open_newest_mail("ada@example.com", "Confirm your email address")

    preview = site.page.frame_locator("iframe.mail-html")
    with site.page.expect_navigation():
        preview.get_by_role("link", name="Confirm my address").click()
    site.audit()

    assert site.path.startswith("/confirm/"), site.path
    assert site.page.main_frame.url.startswith(site.url + "/confirm/")
    site.expect_heading("Confirm your address")
    site.press("Confirm my address")
    site.expect_flash("your address is confirmed")


def test_preview_shows_the_whole_mail_on_a_phone(site: Site) -> None:
    register(site, "ada@example.com")
    site.page.set_viewport_size(PHONE)
    site.open_newest_mail("ada@example.com")

    frame = site.page.frame_locator("iframe.mail-html")
    expect(frame.get_by_text("Nothing happens unless")).to_be_visible()
    inner = next(f for f in site.page.frames if f.url == "about:srcdoc")
    width, height = inner.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    box = site.page.locator("iframe.mail-html").evaluate("f => [f.clientWidth, f.clientHeight]")
    assert height <= box[1], f"the mail is {height}px tall, its frame {box[1]}px"
    assert width <= box[0], f"the mail is {width}px wide, its frame {box[0]}px"
    page_width = site.page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE["width"], f"the page is {page_width}px wide on a phone"


def test_html_part_on_its_own_page_fits_a_phone_and_its_button_works(site: Site) -> None:
    register(site, "ada@example.com")
    site.page.set_viewport_size(PHONE)
    site.open_newest_mail("ada@example.com")

    # Not site.follow: the page is sandboxed without scripts, so axe-core cannot run there.
    with site.page.expect_navigation():
        site.page.get_by_role("link", name="Open the HTML part on its own page").click()

    site.expect_heading("Confirm your email address")
    page_width = site.page.locator("html").evaluate("html => html.scrollWidth")
    assert page_width <= PHONE["width"], f"the mail is {page_width}px wide on a phone"
    with site.page.expect_navigation():
        site.page.get_by_role("link", name="Confirm my address").click()
    site.expect_heading("Confirm your address")


def test_mailbox_table_breaks_no_word_on_a_phone(site: Site) -> None:
    register(site, "a.rather.long.address@example.com")
    site.page.set_viewport_size(PHONE)
    site.goto("/_mail")

    assert site.page.evaluate(_SPLIT_WORDS) == []
    status = site.page.locator("table.mailbox tbody tr").first.locator("td").nth(3)
    expect(status).to_have_text("shown here (not sent)")
    page_width = site.page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE["width"], f"the page is {page_width}px wide on a phone"


def test_mailbox_table_fits_its_card_on_a_laptop(site: Site) -> None:
    register(site, "a.rather.long.address@example.com")
    site.page.set_viewport_size(LAPTOP)
    site.goto("/_mail")

    region = site.page.locator(".table-scroll")
    scroll_width, client_width = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
    assert scroll_width <= client_width, f"the table needs {scroll_width}px, has {client_width}px"
    assert site.page.evaluate(_SPLIT_WORDS) == []
    # One line a row: nothing in a cell wraps when the screen has room.
    heights = site.page.locator("table.mailbox tbody td").evaluate_all(
        "cells => cells.map(c => c.getBoundingClientRect().height)"
    )
    header = site.page.locator("table.mailbox thead th").first.bounding_box()
    assert header is not None
    assert max(heights) < 2 * header["height"], heights


def test_status_names_the_mail_server_outside_the_dev_mailbox(open_site) -> None:
    site = open_site(MAIL_SERVER="mail.example", MAIL_PORT=587)
    register(site, "ada@example.com")

    site.open_newest_mail("ada@example.com")

    facts = site.page.locator(".facts").inner_text()
    assert re.search(r"Status\s+waiting to be sent to mail\.example:587", facts), facts
