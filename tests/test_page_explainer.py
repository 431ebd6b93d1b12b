"""Issue #14 in Chromium, desktop and a 390 px wide phone: finding one's way (the input in view,
the table of contents, anchors, drawing as sections come into view without moving controls),
linked views, the math panel against POST /api/capsule-math, motion, accessibility."""
from __future__ import annotations

import re

import numpy as np
import pytest

from test_page import (  # noqa: F401 (fixtures)
    DESKTOP, PHONE, TIMEOUT_MS, expect, open_page, page, page_and_errors, seq, settle, wait_for_new_analysis)

pytestmark = pytest.mark.browser

SECTIONS = ["input", "conv1", "relu", "primary", "squash", "routing", "votes", "digitcaps", "recon", "claims"]
CONTROLS = ["#kernel-index", "#primary-stretch", "#routing-play", "#routing-iterations", "#routing-digit",
            "#recon-digit", "#recon-reset", "#sweep-button", "[data-testid=evidence-toggle]", "#sweep-run"]


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def any_page(request, browser, live_server):
    context, page, errors = open_page(browser, live_server, request.param)
    yield page
    unexpected = errors.unexpected()
    context.close()
    assert not unexpected, f"console errors: {unexpected}"


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= -0.5 and box["y"] + box["height"] <= size["height"] + 0.5 \
        and box["x"] >= -0.5 and box["x"] + box["width"] <= size["width"] + 0.5


# ------------------------------------------------------------------ 1. find your way

def test_table_of_contents_lists_every_section_in_order_and_marks_the_current_one(any_page):
    page = any_page
    toc = page.get_by_test_id("toc")
    hrefs = toc.locator("a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    ids = page.locator("main section.panel[id]").evaluate_all("(s) => s.map((e) => e.id)")
    assert hrefs == [f"#{i}" for i in ids]
    assert [i for i in ids if i in SECTIONS] == SECTIONS  # the stages in order, then the experiments
    for section in ("routing", "recon"):
        toc.locator(f"a[href='#{section}']").click()
        expect(toc.locator(f"a[href='#{section}']")).to_have_attribute("aria-current", "location")
        expect(toc.locator("a[aria-current]")).to_have_count(1)
        assert in_viewport(page, toc), "the contents scrolled away"
        heading = page.locator(f"#{section} h2")
        box = heading.bounding_box()
        assert 0 <= box["y"] < page.viewport_size["height"] / 2, f"#{section} is not at the top"


def test_an_anchor_opens_the_page_at_its_section(browser, live_server):
    context, page, errors = open_page(browser, live_server + "/#routing", DESKTOP)
    try:
        box = page.locator("#routing h2").bounding_box()
        assert 0 <= box["y"] < 300, box
        expect(page.get_by_test_id("toc").locator("a[href='#routing']")).to_have_attribute("aria-current", "location")
        assert not errors.unexpected(), errors.unexpected()
    finally:
        context.close()


def test_the_input_stays_in_view_while_scrolling(any_page):
    page = any_page
    view = page.get_by_test_id("input-view")
    prediction = page.get_by_test_id("prediction").inner_text()
    for section in ("routing", "recon", "claims"):
        page.locator(f"#{section}").scroll_into_view_if_needed()
        page.wait_for_timeout(100)
        assert in_viewport(page, view), f"the input left the screen at #{section}"
        expect(view.get_by_test_id("prediction")).to_have_text(prediction)
    if page.viewport_size["width"] <= PHONE["width"]:
        back = view.get_by_role("link", name="Back to the pad")
        expect(back).to_be_visible()
        back.click()
        page.wait_for_timeout(300)
        assert in_viewport(page, page.get_by_test_id("draw"))


def test_controls_do_not_move_while_the_first_analysis_arrives(browser, live_server):
    """Hold the first /api/analyze answer, note where every control is, release it: the
    controls stay where they were (sizes come from /api/model, text has room reserved)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    held = []
    page.route("**/api/analyze", lambda route: held.append(route))
    page.route("**/api/conv1/kernels", lambda route: held.append(route))
    try:
        page.goto(live_server)
        page.wait_for_function("() => document.querySelectorAll('#recon-digit option').length > 0")
        while len(held) < 2:
            page.wait_for_timeout(50)
        page.wait_for_timeout(300)

        def positions():
            return {c: page.locator(c).first.evaluate(
                "(el) => { const r = el.getBoundingClientRect(); return [r.x, r.y + window.scrollY, r.width]; }")
                for c in CONTROLS}
        before = positions()
        for route in held:
            route.continue_()
        expect(page.get_by_test_id("prediction")).to_have_attribute("data-seq", re.compile(r"^\d+$"))
        for section in ("claims", "recon", "routing", "conv1"):  # every part drawn
            page.locator(f"#{section}").scroll_into_view_if_needed()
            page.wait_for_timeout(150)
        settle(page)
        after = positions()
        moved = {c: (before[c], after[c]) for c in CONTROLS if np.abs(np.subtract(before[c], after[c])).max() > 0.5}
        assert not moved, moved
    finally:
        context.close()
