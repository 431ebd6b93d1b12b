"""Issue #14 in Chromium, desktop and a 390 px wide phone: finding one's way (the input in view,
the table of contents, anchors, drawing as sections come into view without moving controls),
linked views, the math panel against POST /api/capsule-math, motion, accessibility."""
from __future__ import annotations

import re

import numpy as np
import pytest

from support.page import (
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    answered,
    canvas_rgba,
    expect,
    open_page,
    seq,
    settle,
    wait_for_new_analysis,
)

pytestmark = pytest.mark.browser

SECTIONS = ["input", "conv1", "relu", "primary", "squash", "routing", "votes", "math", "digitcaps", "recon", "claims"]
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


# ------------------------------------------------------------------ 2. linked views

def field_in(layers, row, col):
    """The receptive field of output (row, col) of `layers` ([(kernel, stride)], input first),
    computed here from /api/model's numbers the way a textbook does."""
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return row * jump, col * jump, size


def layers_of(page, live_server):
    layers = {layer["name"]: layer for layer in page.request.get(live_server + "/api/model").json()["layers"]}
    return [(layers[n]["kernel_size"], layers[n]["strides"]) for n in ("conv1", "primary_caps")]


def shown_field(page, testid):
    return tuple(int(v) for v in page.get_by_test_id(testid).get_attribute("data-field").split(","))


def click_atlas_cell(page, selector, tile, row, col, cols=8, size=6, gap=1):
    canvas = page.locator(selector)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    width, height = canvas.evaluate("(c) => [c.width, c.height]")
    x = (tile % cols) * (size + gap) + col + 0.5
    y = (tile // cols) * (size + gap) + row + 0.5
    return canvas, {"x": x * box["width"] / width, "y": y * box["height"] / height}


def test_a_primary_capsule_outlines_its_receptive_field_everywhere(any_page, live_server):
    page = any_page
    conv1, primary = layers_of(page, live_server)
    canvas, position = click_atlas_cell(page, "#primary-caps", 0, 4, 2)
    canvas.click(position=position)
    outline = page.get_by_test_id("receptive-field")
    expect(outline).to_be_visible()
    assert shown_field(page, "receptive-field") == field_in([conv1, primary], 4, 2)
    assert shown_field(page, "map-field") == field_in([primary], 4, 2)
    # The outline sits where those pixels are drawn on the input.
    seen = page.locator("#seen").bounding_box()
    box = outline.bounding_box()
    top, left, size = field_in([conv1, primary], 4, 2)
    assert box["y"] - seen["y"] == pytest.approx(top / 28 * seen["height"], abs=1.5)
    assert box["x"] - seen["x"] == pytest.approx(left / 28 * seen["width"], abs=1.5)
    assert box["width"] == pytest.approx(size / 28 * seen["width"], abs=1.5)
    expect(page.locator("#routing-caption")).to_contain_text("type 0, row 4, column 2")

    # Hovering another capsule in the routing view outlines that one and marks it in the
    # capsules view; leaving it goes back to the selected one.
    heat, position = click_atlas_cell(page, "#routing-heat", 9, 1, 5)
    marker_before = page.locator("#primary-marker").get_attribute("style")
    heat.hover(position=position)
    assert shown_field(page, "receptive-field") == field_in([conv1, primary], 1, 5)
    assert page.locator("#primary-marker").get_attribute("style") != marker_before
    page.mouse.move(0, 0)
    expect(outline).to_have_attribute("data-field", ",".join(map(str, field_in([conv1, primary], 4, 2))))
    expect(page.locator("#primary-marker")).to_have_attribute("style", marker_before)

    # A vote in the votes plot is the same capsule: (row * 6 + col) * 32 + type.
    page.locator("#votes").scroll_into_view_if_needed()
    expect(page.locator("#votes")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    dot = page.locator(f"[data-testid=votes-plot] circle.vote[data-capsule='{(3 * 6 + 0) * 32 + 7}']")
    dot.dispatch_event("pointerover")
    assert shown_field(page, "receptive-field") == field_in([conv1, primary], 3, 0)
    dot.dispatch_event("click")
    expect(page.locator("#capsule-title")).to_contain_text("type 7, row 3, column 0")


def test_hovering_a_relu_pixel_outlines_the_patch_it_saw(page, live_server):
    conv1, _ = layers_of(page, live_server)
    maps = page.get_by_test_id("relu-maps")
    maps.scroll_into_view_if_needed()
    box = maps.bounding_box()
    width = maps.evaluate("(c) => c.width")
    # Map 0 is the top left tile: pixel (row 11, column 5).
    maps.hover(position={"x": 5.5 * box["width"] / width, "y": 11.5 * box["width"] / width})
    expect(page.get_by_test_id("input-patch")).to_be_visible()
    assert shown_field(page, "input-patch") == field_in([conv1], 11, 5)
    page.mouse.move(0, 0)
    expect(page.get_by_test_id("input-patch")).to_be_hidden()


def test_choosing_a_digit_capsule_anywhere_selects_it_everywhere(any_page, live_server):
    page = any_page
    dimensions = page.request.get(live_server + "/api/dimensions").json()["classes"]
    bars = page.get_by_test_id("digit-caps")
    bars.scroll_into_view_if_needed()
    cases = [(lambda: bars.locator(".bar-col").nth(4).click(), 4),
             (lambda: page.locator("#routing-bars .bar-col").nth(2).click(), 2)]
    matrix = page.locator("#digit-vectors")
    box = matrix.bounding_box()
    cases.append((lambda: matrix.click(position={"x": box["width"] / 2, "y": 6.5 * box["height"] / 10}), 6))
    for action, digit in cases:
        action()
        expect(page.locator("#routing-digit")).to_have_value(str(digit))
        expect(page.locator("#recon-digit")).to_have_value(str(digit))
        expect(bars.locator(".bar-col").nth(digit)).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#routing-digit-name")).to_have_text(str(digit))
        expect(page.get_by_test_id("dimension-label-0")).to_have_text(
            f"dim 0: {dimensions[str(digit)]['dimensions'][0]['text']}")
    matrix.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#recon-digit")).to_have_value("7")


def test_bars_that_do_nothing_are_not_focusable(page):
    page.locator("#claims").scroll_into_view_if_needed()
    expect(page.locator("[data-testid=capsnet-answer] .bar-col")).to_have_count(10)
    for bar in page.locator("[data-testid=capsnet-answer] .bar-col").all():
        assert bar.evaluate("(el) => el.tabIndex") < 0 and bar.evaluate("(el) => el.tagName") == "DIV"
    for bar in page.get_by_test_id("digit-caps").locator(".bar-col").all():
        assert bar.evaluate("(el) => el.tagName") == "BUTTON"


# ------------------------------------------------------------------ 3. the math panel

def number(locator) -> float:
    return float(locator.inner_text().replace("\u2212", "-"))


def math_answer(page, action):
    return answered(page, "/api/capsule-math", action, panel="#math")


def assert_math_shown(page, answer):
    panel = page.get_by_test_id("math-panel")
    close = lambda testid, value, tol=6e-5: pytest.approx(value, abs=tol) == number(panel.get_by_test_id(testid))
    assert close("math-s-length", answer["s_i_length"])
    assert close("math-u-length", answer["u_i_length"])
    assert close("math-uhat-length", answer["u_hat_length"])
    for k, it in enumerate(answer["iterations"]):
        for name in ("b", "c"):
            shown = [number(s) for s in panel.get_by_test_id(f"math-{name}-{k}").locator("span").all()]
            assert shown == pytest.approx(it[name], abs=6e-5), (name, k)
        assert close(f"math-sj-length-{k}", it["s_j_length"])
        assert close(f"math-vj-length-{k}", it["v_j_length"])
        assert close(f"math-agreement-{k}", it["agreement"])
        if k:  # the agreement of the last iteration was added to b_ij
            previous = answer["iterations"][k - 1]
            j = answer["digit"]
            assert it["b"][j] == pytest.approx(previous["b"][j] + previous["agreement"], abs=2e-5)
    loss = answer["margin_loss"]
    assert close("math-loss-total", loss["total"], 6e-6)
    for d, value in enumerate(loss["per_digit"]):
        assert close(f"math-loss-{d}", value, 6e-6)


def test_the_math_panel_shows_the_servers_numbers_for_the_selected_capsules(any_page, live_server):
    page = any_page
    predicted = int(page.get_by_test_id("prediction").inner_text())
    body, answer = math_answer(page, lambda: page.locator("#math").scroll_into_view_if_needed())
    assert body["digit"] == answer["digit"] == predicted
    assert_math_shown(page, answer)
    # Another primary capsule (type 9, row 1, column 4: index (1 * 6 + 4) * 32 + 9) and digit.
    canvas, position = click_atlas_cell(page, "#primary-caps", 9, 1, 4)
    to_math = lambda: page.locator("#math").scroll_into_view_if_needed()
    body, answer = math_answer(page, lambda: (canvas.click(position=position), to_math()))
    assert body["capsule"] == answer["capsule"] == (1 * 6 + 4) * 32 + 9
    other = (predicted + 5) % 10
    body, answer = math_answer(page, lambda: (page.locator("#recon-digit").select_option(str(other)), to_math()))
    assert body["digit"] == other and body["capsule"] == (1 * 6 + 4) * 32 + 9
    page.locator("#math").scroll_into_view_if_needed()
    assert_math_shown(page, answer)
    expect(page.locator("#math-caption")).to_contain_text("type 9, row 1, column 4")
    # The same numbers as the rest of the page: |v_j| after the last iteration is the capsule's length.
    assert answer["iterations"][-1]["v_j_length"] == pytest.approx(answer["margin_loss"]["lengths"][other], abs=2e-5)


# ------------------------------------------------------------------ 4. motion

def test_conv1_filter_slides_over_the_input_and_fills_its_map(any_page, live_server):
    page = any_page
    conv1, _ = layers_of(page, live_server)
    play = page.get_by_test_id("conv-play")
    play.scroll_into_view_if_needed()
    slide_map = page.get_by_test_id("slide-map")
    total = int(slide_map.get_attribute("data-done"))  # a filter's whole map until played
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(600)
    play.click()  # pause
    expect(play).to_have_attribute("aria-pressed", "false")
    done = int(slide_map.get_attribute("data-done"))
    assert 1 <= done < total
    page.wait_for_timeout(300)
    assert int(slide_map.get_attribute("data-done")) == done, "it moved while paused"
    # The positions done show the server's map exactly as the map above does; the rest is black.
    shown = canvas_rgba(page, "slide-map").reshape(-1, 4)
    full = canvas_rgba(page, "kernel-relu").reshape(-1, 4)
    assert np.array_equal(shown[:done, :3], full[:done, :3])
    assert not shown[done:, :3].any()
    # The keyboard steps the window; it covers the input pixels that map position saw.
    page.get_by_test_id("slide-input").focus()
    page.keyboard.press("ArrowRight")
    expect(slide_map).to_have_attribute("data-done", str(done + 1))
    width = int(np.sqrt(total))
    assert shown_field(page, "slide-window") == field_in([conv1], done // width, done % width)
    page.keyboard.press("End")
    expect(slide_map).to_have_attribute("data-done", str(total))
    page.keyboard.press("Home")
    expect(slide_map).to_have_attribute("data-done", "1")


def test_routing_play_blends_between_iterations(page):
    page.locator("#routing").scroll_into_view_if_needed()
    blends = []
    page.get_by_test_id("routing").get_by_role("button", name="Play").click()
    for _ in range(60):
        value = page.locator("#routing-heat").get_attribute("data-blend")
        if value is not None:
            blends.append(float(value))
        page.wait_for_timeout(40)
    assert any(0 < b < 1 for b in blends), blends
    expect(page.locator("#routing-step")).to_have_text("Iteration 3 of 3", timeout=10_000)


def test_reduced_motion_jumps_instead_of_animating(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(live_server)
        expect(page.get_by_test_id("prediction")).to_have_attribute("data-seq", re.compile(r"^\d+$"))
        settle(page)
        play = page.get_by_test_id("conv-play")
        play.scroll_into_view_if_needed()
        slide_map = page.get_by_test_id("slide-map")
        page.get_by_test_id("slide-input").focus()
        page.keyboard.press("Home")
        play.click()
        total = page.evaluate("() => { const c = document.getElementById('slide-map'); return c.width * c.height; }")
        expect(slide_map).to_have_attribute("data-done", str(total), timeout=200)  # at once
        page.locator("#routing").scroll_into_view_if_needed()
        page.get_by_test_id("routing").get_by_role("button", name="Play").click()
        blends = []
        for _ in range(40):
            blends.append(page.locator("#routing-heat").get_attribute("data-blend"))
            page.wait_for_timeout(40)
        assert blends == [None] * len(blends)
        expect(page.locator("#routing-step")).to_have_text("Iteration 3 of 3", timeout=10_000)
    finally:
        context.close()


# ------------------------------------------------------------------ 5. accessibility

LIVE = """() => Array.from(document.querySelectorAll(
    '[aria-live]:not([aria-live=off]), [role=status], [role=log], [role=alert], output:not([aria-live=off])'),
    (el) => el.id || el.className)"""


def test_canvases_that_carry_meaning_are_described_for_the_current_input(any_page):
    page = any_page
    for section in ("conv1", "primary", "squash", "routing", "digitcaps", "recon"):
        page.locator(f"#{section}").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    canvases = page.evaluate("""() => Array.from(document.querySelectorAll('canvas'))
        .filter((c) => c.id !== 'draw' && !c.closest('[aria-hidden=true]'))
        .map((c) => [c.id, c.getAttribute('role'), c.getAttribute('aria-label') || ''])""")
    assert canvases
    for cid, role, label in canvases:
        assert role == "img" and label.strip(), (cid, role, label)
    labels = {cid: label for cid, _, label in canvases}
    prediction = page.get_by_test_id("prediction").inner_text()
    assert labels["seen"].endswith(f"read as {prediction}")
    assert "for this input" in labels["relu-maps"] and "the longest is type" in labels["primary-caps"]
    assert labels["kernel-relu"].startswith("Filter ") and "this input" in labels["squash-plot"]
    assert f"row {prediction}, the prediction" in labels["digit-vectors"]


def test_only_the_announcer_is_live_and_it_speaks_once_per_analysis(page):
    # the status lines' errors: the input's, the claims', the two digits'
    live = ["announce", "status-notice", "status-notice", "status-notice"]
    assert sorted(page.evaluate(LIVE)) == live
    page.evaluate("""() => {
        window.announced = 0;
        new MutationObserver(() => { window.announced += 1; })
            .observe(document.getElementById('announce'), { childList: true, characterData: true, subtree: true });
    }""")
    for testid in ("relu-maps", "primary-caps"):
        canvas = page.get_by_test_id(testid)
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        for f in (0.1, 0.3, 0.5, 0.7):
            page.mouse.move(box["x"] + f * box["width"], box["y"] + f * box["height"])
    slider = page.get_by_test_id("slider-3")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.locator("#claims").scroll_into_view_if_needed()
    page.get_by_test_id("transform-rotation").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.announced") == 0
    assert sorted(page.evaluate(LIVE)) == live
    before = seq(page)
    page.locator(".gallery-item[data-label='3']").first.click()
    wait_for_new_analysis(page, before)
    assert page.evaluate("() => window.announced") == 1
    expect(page.get_by_test_id("announce")).to_have_text(re.compile(r"reads your digit as 3 \(capsule length"))


def test_relu_maps_and_routing_heat_map_take_the_keyboard(any_page):
    page = any_page
    maps = page.get_by_test_id("relu-maps")
    maps.focus()
    start = int(page.locator("#kernel-index").input_value())
    page.keyboard.press("ArrowRight")
    expect(page.locator("#kernel-index")).to_have_value(str(start + 1))
    heat = page.locator("#routing-heat")
    canvas, position = click_atlas_cell(page, "#routing-heat", 3, 2, 2)
    canvas.click(position=position)
    expect(page.locator("#routing-caption")).to_contain_text("type 3, row 2, column 2")
    heat.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#routing-caption")).to_contain_text("type 3, row 2, column 3")
    page.keyboard.press("PageDown")
    expect(page.locator("#capsule-title")).to_contain_text("type 4, row 2, column 3")


def test_a_request_that_hangs_times_out_with_a_message_that_stays(page_and_errors):
    page, _ = page_and_errors
    page.evaluate("async () => (await import('/static/engines/server.js')).setRequestTimeout(1500)")
    page.route("**/api/capsule-math", lambda route: None)  # never answered
    page.locator("#math").scroll_into_view_if_needed()
    status = page.get_by_test_id("status")
    message = "The server did not answer POST /api/capsule-math within 1.5 s"
    expect(status).to_contain_text(message, timeout=10_000)
    expect(status.locator("[role=alert]")).to_contain_text(message)
    # The next analysis' progress line goes beside the error, not over it.
    before = seq(page)
    page.get_by_label("Routing iterations", exact=True).select_option("2")
    wait_for_new_analysis(page, before)
    expect(status).to_contain_text("Analysed in")
    expect(status).to_contain_text(message)
