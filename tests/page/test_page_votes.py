"""Issue #11 in Chromium: the votes plot, the agreement table, the evidence overlay, the
dimension labels, the mistakes gallery and links that share a view, each checked against the
JSON the server answers for the same input."""
from __future__ import annotations

import io
import re
from urllib.parse import urljoin

import numpy as np
import pytest
from PIL import Image

from app.http.encoding import dequantize
from support.page import DESKTOP, TIMEOUT_MS, answered, expect, open_page, seq, settle, wait_for_new_analysis

pytestmark = pytest.mark.browser


def votes_answer(page, action):
    """Run `action` and return (request body, answer) of the /api/votes call it causes, once drawn."""
    return answered(page, "/api/votes", action, panel="#votes")


def open_votes(page):
    return votes_answer(page, lambda: page.locator("#votes").scroll_into_view_if_needed())


def dot_opacities(page) -> np.ndarray:
    return np.asarray(page.evaluate("""() => Array.from(
        document.querySelectorAll('[data-testid=votes-plot] circle.vote'),
        (c) => [Number(c.dataset.capsule), Number(c.getAttribute('opacity'))])"""))


def overlay_alpha(page) -> np.ndarray:
    data = page.evaluate("""() => {
        const c = document.querySelector('[data-testid=evidence-overlay]');
        const rgba = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.height, c.width, Array.from(rgba.filter((_, i) => i % 4 === 3))];
    }""")
    return np.asarray(data[2], dtype=np.float32).reshape(data[0], data[1])


# ------------------------------------------------------------------ votes

def test_votes_coupling_follows_the_routing_view_and_matches_api_routing(page, live_server):
    body, answer = open_votes(page)
    routing = page.request.post(live_server + "/api/routing", data={
        "pixels": body["pixels"], "routing_iterations": body["routing_iterations"]}).json()["routing"]
    digit = body["digit"]
    assert digit == int(page.get_by_test_id("prediction").inner_text())  # follows the winning digit
    iterations = routing["iterations"]
    assert len(answer["coupling"]) == len(iterations) == body["routing_iterations"]
    rows, cols, types, _ = iterations[0]["coupling"]["shape"]
    cmax = max(max(c) for c in answer["coupling"])
    for step in range(len(iterations) - 1, -1, -1):
        expect(page.locator("#routing-step")).to_have_text(f"Iteration {step + 1} of {len(iterations)}")
        shown = dot_opacities(page)
        assert len(shown) == types * rows * cols
        coupling = dequantize(iterations[step]["coupling"])[..., digit]  # [row, col, type]
        tolerance = (iterations[step]["coupling"]["max"] - iterations[step]["coupling"]["min"]) / 255 + 2e-4
        for capsule, opacity in shown[::37]:
            capsule = int(capsule)
            row, col, kind = capsule // (cols * types), capsule // types % cols, capsule % types
            assert opacity * cmax == pytest.approx(coupling[row, col, kind], abs=tolerance), (step, capsule)
        # v_j after each iteration so far is marked; the others are not yet.
        marks = page.locator("[data-testid=votes-plot] g.vj[visibility=visible]")
        expect(marks).to_have_count(step + 1)
        if step:
            page.get_by_role("button", name="Previous iteration").click()
    # The agreement table shows the server's scores, the current iteration marked.
    table = page.get_by_test_id("agreement")
    for d in range(10):
        cells = table.locator(f"tr[data-digit='{d}'] td").all_inner_texts()
        assert [float(t.replace("\u2212", "-")) for t in cells] == pytest.approx(
            [a[d] for a in answer["agreement"]], abs=6e-4)
    expect(table.locator("td.current").first).to_have_attribute("data-iteration", "0")
    expect(page.locator("#votes-projection")).to_contain_text(
        f"{100 * answer['projection']['explained_variance_ratio'][0]:.1f}%")


def test_choosing_a_digit_asks_for_its_votes_and_decodes_it(page):
    open_votes(page)
    predicted = int(page.get_by_test_id("prediction").inner_text())
    other = (predicted + 3) % 10
    body, answer = votes_answer(page, lambda: page.locator("#routing-digit").select_option(str(other)))
    assert body["digit"] == answer["digit"] == other
    expect(page.locator("#recon-digit")).to_have_value(str(other))  # one choice, every view
    expect(page.get_by_test_id("agreement").locator("tr.chosen th")).to_have_text(str(other))


def test_evidence_and_saliency_overlays_draw_the_servers_maps(page):
    _, answer = open_votes(page)
    toggle = page.get_by_test_id("evidence-toggle")
    overlay = page.get_by_test_id("evidence-overlay")
    for kind in ("evidence", "saliency"):
        toggle.get_by_label(kind).check()
        expect(overlay).to_be_visible()
        expect(overlay).to_have_attribute("data-kind", kind)
        values = np.asarray(answer[kind])
        expected = np.round(255 * np.abs(values) / np.abs(values).max())
        assert np.abs(overlay_alpha(page) - expected).max() <= 1, kind
    expect(page.locator("#evidence-note")).to_contain_text(f"d|v_{answer['digit']}|/d pixel")
    toggle.get_by_label("nothing").check()
    expect(overlay).to_be_hidden()


# ------------------------------------------------------------------ dimension labels

def test_slider_labels_come_from_api_dimensions(page, live_server):
    table = page.request.get(live_server + "/api/dimensions").json()
    for digit in (int(page.get_by_test_id("prediction").inner_text()), 4):
        page.locator("#recon-digit").select_option(str(digit))
        entries = table["classes"][str(digit)]["dimensions"]
        for entry in entries:
            label = page.get_by_test_id(f"dimension-label-{entry['dimension']}")
            expect(label).to_have_text(f"dim {entry['dimension']}: {entry['text']}")
        slant = next(e for e in entries if e["label"]) if any(e["label"] for e in entries) else entries[0]
        tooltip = page.get_by_test_id(f"dimension-label-{slant['dimension']}").get_attribute("title")
        r = slant["correlations"]["slant"]
        assert f"slant: r = {r:.2f}".replace("-", "\u2212") in tooltip
    expect(page.get_by_test_id("dimension-table").locator("tr[data-dimension]")).to_have_count(16)


# ------------------------------------------------------------------ mistakes

def test_mistakes_gallery_opens_a_mistake_and_redraws_it_as_both_digits(page, live_server):
    mistakes = page.request.get(live_server + "/api/mistakes").json()
    gallery = page.get_by_test_id("mistakes-gallery")
    expect(gallery.locator("button")).to_have_count(len(mistakes))
    entry = mistakes[3]
    bodies = []
    page.on("request", lambda r: r.url.endswith("/api/reconstruct") and bodies.append(r.post_data_json))
    before = seq(page)
    with page.expect_response(lambda r: r.url.endswith("/api/analyze"), timeout=TIMEOUT_MS) as info:
        gallery.locator(f"button[data-index='{entry['index']}']").click()
    analysis = info.value.json()
    wait_for_new_analysis(page, before)
    sent = np.asarray(info.value.request.post_data_json["pixels"])
    served = page.request.get(urljoin(page.url, entry["image"])).body()  # relative to the page, as the page fetches it
    png = np.asarray(Image.open(io.BytesIO(served)).convert("L")) / 255
    assert np.abs(sent - png).max() < 0.001
    expect(page.get_by_test_id("prediction")).to_have_text(str(entry["prediction"]))
    pair = page.get_by_test_id("mistake-pair")
    expect(pair).to_be_visible()
    expect(page.get_by_test_id("mistake-true")).to_have_attribute("data-digit", str(entry["label"]))
    expect(page.get_by_test_id("mistake-predicted")).to_have_attribute("data-digit", str(entry["prediction"]))
    vectors = analysis["digit_caps"]["vectors"]
    pair_bodies = [b for b in bodies if b["digit"] in (entry["label"], entry["prediction"])]
    for digit in (entry["label"], entry["prediction"]):
        body = next(b for b in pair_bodies if b["digit"] == digit)
        assert body["vector"] == pytest.approx(vectors[digit], abs=1e-6)
    expect(page.locator("#mistake-true-caption")).to_contain_text(
        f"capsule length {analysis['digit_caps']['lengths'][entry['label']]:.3f}")
    # An ordinary input hides the pair again.
    before = seq(page)
    page.locator(".gallery-item[data-label='2']").first.click()
    wait_for_new_analysis(page, before)
    expect(pair).to_be_hidden()


# ------------------------------------------------------------------ links

def test_a_link_restores_input_digit_and_sliders(browser, live_server, page):
    page.locator(".gallery-item[data-label='5']").first.click()
    settle(page)
    with page.expect_response(lambda r: r.url.endswith("/api/analyze")) as info:
        page.locator(".gallery-item[data-label='7']").first.click()
    original = np.asarray(info.value.json()["input"])
    settle(page)
    page.locator("#recon-digit").select_option("1")
    slider = page.get_by_test_id("slider-2")
    slider.focus()
    page.keyboard.press("End")
    moved = [float(page.get_by_test_id(f"slider-{d}").input_value()) for d in range(16)]
    rotation = page.get_by_test_id("transform-rotation")
    rotation.focus()
    page.keyboard.press("End")
    rotated = rotation.input_value()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("copy-link").click()
    expect(page.get_by_test_id("status")).to_contain_text("Link copied")
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link == page.url and "in=" in link and "d=1" in link and "s=" in link and "rotation:" in link

    context = browser.new_context(viewport=DESKTOP)
    try:
        other = context.new_page()
        other.set_default_timeout(TIMEOUT_MS)
        with other.expect_response(lambda r: r.url.endswith("/api/analyze")) as info:
            other.goto(link)
        restored = np.asarray(info.value.request.post_data_json["pixels"])
        assert np.abs(restored - original).max() <= 0.5 / 255 + 1e-6
        settle(other)
        other.locator("#recon").scroll_into_view_if_needed()  # it draws when in view
        expect(other.locator("#recon-digit")).to_have_value("1")
        expect(other.locator("#routing-digit")).to_have_value("1")
        shown = [float(other.get_by_test_id(f"slider-{d}").input_value()) for d in range(16)]
        assert shown == pytest.approx(moved, abs=0.011)  # a slider's step is 0.01
        expect(other.get_by_test_id("transform-rotation")).to_have_value(rotated)
    finally:
        context.close()

    # Back returns to the previous input (the 5), forward to the 7.
    before = seq(page)
    page.go_back()
    wait_for_new_analysis(page, before)
    expect(page.get_by_test_id("prediction")).to_have_text("5")
    before = seq(page)
    page.go_forward()
    wait_for_new_analysis(page, before)
    expect(page.get_by_test_id("prediction")).to_have_text("7")


def test_an_unreadable_link_is_ignored_with_a_notice(browser, live_server):
    context, page, errors = open_page(browser, live_server + "/?in=not-a-picture&d=3", DESKTOP)
    try:
        expect(page.get_by_test_id("status")).to_contain_text("could not be read")
        expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
        assert "not-a-picture" not in page.url  # the unreadable link is dropped from the address
        assert not errors.unexpected(), errors.unexpected()
    finally:
        context.close()
