"""The browser page, driven with Playwright in Debian's Chromium against the live server.

Needs `pip install playwright` (the Python package only; its own browsers are never
downloaded) and `apt-get install chromium`; skipped when either is missing, except under CI
(CI=true), where they fail saying what to install (conftest.py's `browser` fixture).
"""
from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from support.digits import PROJECT_ROOT, gallery_digit
from support.images import encode
from support.page import (
    PANELS,
    PHONE,
    TIMEOUT_MS,
    assert_drawn,
    draw,
    expect,
    open_page,
    pixels,
    seq,
    settle,
    wait_for_new_analysis,
    wait_until_changed,
    wait_until_drawn,
)

pytestmark = pytest.mark.browser

# ------------------------------------------------------------------ tests

def test_page_loads_under_csp_and_fills_every_panel(page, live_server):
    response = page.request.get(live_server + "/")
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    expect(page.get_by_test_id("prediction")).to_have_text(re.compile(r"^\d$"))
    for testid in PANELS:
        assert_drawn(page, testid)
    assert len(page.locator("[data-testid^=slider-]").all()) == 16
    sweep = page.get_by_test_id("sweep")
    expect(sweep).to_be_hidden()
    page.get_by_role("button", name=re.compile("perturbation grid", re.I)).click()
    expect(sweep).to_be_visible(timeout=TIMEOUT_MS)
    assert_drawn(page, "sweep")
    # 16 rows x 11 columns of 28x28 images, drawn at twice their size plus labels.
    width, height = page.evaluate("() => [document.querySelector('[data-testid=sweep]').width,"
                                  " document.querySelector('[data-testid=sweep]').height]")
    assert width > 11 * 56 and height > 16 * 56


@pytest.mark.parametrize("digit, strokes", [
    ("1", [[(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]]),
    ("7", [[(0.25, 0.2), (0.5, 0.2), (0.75, 0.2), (0.62, 0.5), (0.5, 0.85)]]),
    ("0", [[(0.5, 0.15), (0.72, 0.25), (0.78, 0.5), (0.7, 0.75), (0.5, 0.85), (0.3, 0.75),
            (0.22, 0.5), (0.28, 0.25), (0.5, 0.15)]]),
])
def test_drawing_a_digit_predicts_it(page, digit, strokes):
    page.get_by_test_id("clear").click()
    before = seq(page)
    draw(page, strokes)
    wait_for_new_analysis(page, before)
    expect(page.get_by_test_id("prediction")).to_have_text(digit)
    seen = pixels(page.locator("#seen"))
    assert seen.std() > 0, "the 28x28 input the network saw is not shown"


def test_predictions_update_while_drawing(page):
    """A long, slow stroke is analysed before the pointer is released."""
    page.get_by_test_id("clear").click()
    box = page.get_by_test_id("draw").bounding_box()
    x = box["x"] + box["width"] / 2
    before = seq(page)
    page.mouse.move(x, box["y"] + 0.15 * box["height"])
    page.mouse.down()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    y = 0.15
    while seq(page) == before:
        assert time.monotonic() < deadline, "no analysis while the stroke was being drawn"
        y = min(0.85, y + 0.02)
        page.mouse.move(x, box["y"] + y * box["height"], steps=2)
        page.wait_for_timeout(40)
    page.mouse.up()
    settle(page)


def test_upload_png_predicts_its_digit(page):
    digit = gallery_digit(3)
    # Black ink on white paper, much larger than MNIST: the server has to normalise it.
    image = Image.fromarray(255 - digit).resize((200, 200), Image.Resampling.BILINEAR)
    before = seq(page)
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "three.png", "mimeType": "image/png", "buffer": encode(image)}])
    wait_for_new_analysis(page, before)
    expect(page.get_by_test_id("prediction")).to_have_text("3")
    expect(page.get_by_test_id("status")).not_to_have_class(re.compile(r"\berror\b"))


MAKE_FILE_TRANSFER = """([b64, name]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: 'image/png' }));
    return transfer;
}"""


@pytest.mark.parametrize("how, label", [("drop", 6), ("paste", 8)])
def test_drop_and_paste_an_image(page, how, label):
    image = Image.fromarray(255 - gallery_digit(label)).resize((140, 140), Image.Resampling.BILINEAR)
    encoded = base64.b64encode(encode(image)).decode()
    transfer = page.evaluate_handle(MAKE_FILE_TRANSFER, [encoded, f"{label}.png"])
    before = seq(page)
    if how == "drop":
        for event in ("dragenter", "dragover", "drop"):
            page.get_by_test_id("draw").dispatch_event(event, {"dataTransfer": transfer})
    else:
        page.evaluate("(transfer) => window.dispatchEvent(new ClipboardEvent('paste',"
                      " { clipboardData: transfer, bubbles: true }))", transfer)
    wait_for_new_analysis(page, before)
    expect(page.get_by_test_id("prediction")).to_have_text(str(label))
    expect(page.locator("#drop-overlay")).to_be_hidden()


def test_upload_of_a_text_file_shows_the_server_error(page_and_errors, live_server):
    page, errors = page_and_errors
    content = b"this is not an image\n"
    answer = page.request.post(live_server + "/api/analyze", multipart={
        "image": {"name": "notes.txt", "mimeType": "text/plain", "buffer": content}})
    assert answer.status == 415  # not an image (tests/app/test_api.py checks each refusal's status)
    message = answer.json()["error"]
    # Chromium logs every 4xx response as a console error; that one is expected here.
    errors.allow(rf"status of {answer.status}")
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": content}])
    status = page.get_by_test_id("status")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(status).to_have_text(message)
    expect(status).to_be_visible()
    settle(page)


@pytest.mark.parametrize("label", [2, 5, 9])
def test_gallery_digit_is_predicted(page, label):
    before = seq(page)
    button = page.locator(f".gallery-item[data-label='{label}']").first
    button.click()
    wait_for_new_analysis(page, before)
    expect(page.get_by_test_id("prediction")).to_have_text(str(label))
    expect(button).to_have_attribute("aria-pressed", "true")


def test_gallery_requests_use_pixels(page):
    bodies = []
    page.on("request", lambda r: r.url.endswith("/api/analyze") and bodies.append(r.post_data_json))
    before = seq(page)
    page.locator(".gallery-item[data-label='4']").first.click()
    wait_for_new_analysis(page, before)
    assert bodies and "pixels" in bodies[-1]
    pixels_sent = np.asarray(bodies[-1]["pixels"])
    assert pixels_sent.shape == (28, 28)
    expected = gallery_digit(4) / 255.0
    assert np.abs(pixels_sent - expected).max() < 0.01


def test_slider_redraws_the_reconstruction(page):
    reconstruction = page.get_by_test_id("reconstruction")
    reconstruction.scroll_into_view_if_needed()
    original = wait_until_drawn(reconstruction)
    slider = page.get_by_test_id("slider-0")
    value = float(slider.input_value())
    assert float(slider.get_attribute("min")) == pytest.approx(value - 0.25, abs=0.011)
    assert float(slider.get_attribute("max")) == pytest.approx(value + 0.25, abs=0.011)
    slider.focus()
    page.keyboard.press("End")  # keyboard: the far end of the range, +0.25
    changed = wait_until_changed(reconstruction, original)
    assert float(slider.input_value()) == pytest.approx(value + 0.25, abs=0.011)

    # Mouse: drag the thumb of another slider to the left end.
    other = page.get_by_test_id("slider-1")
    box = other.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for fraction in (0.4, 0.25, 0.1, 0.0):
        page.mouse.move(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2, steps=3)
    page.mouse.up()
    wait_until_changed(reconstruction, changed)

    page.get_by_role("button", name="Reset sliders").click()
    deadline = time.monotonic() + 20
    while np.abs(pixels(reconstruction) - original).max() > 0:
        assert time.monotonic() < deadline, "reset did not restore the reconstruction"
        time.sleep(0.1)
    assert float(slider.input_value()) == pytest.approx(value, abs=0.011)


def test_decoding_another_digit_capsule(page):
    reconstruction = page.get_by_test_id("reconstruction")
    original = pixels(reconstruction)
    predicted = int(page.get_by_test_id("prediction").inner_text())
    other = (predicted + 1) % 10
    page.get_by_label("Decode digit capsule").select_option(str(other))
    wait_until_changed(reconstruction, original)


def test_routing_iterations_can_be_stepped_and_rerun(page):
    routing = page.get_by_test_id("routing")
    step = page.locator("#routing-step")
    expect(step).to_have_text("Iteration 3 of 3")
    routing.get_by_role("button", name="Previous iteration").click()
    expect(step).to_have_text("Iteration 2 of 3")
    heat = page.locator("#routing-heat")
    at_two = pixels(heat)
    routing.get_by_role("button", name="Previous iteration").click()
    expect(step).to_have_text("Iteration 1 of 3")
    assert np.abs(pixels(heat) - at_two).max() > 0, "the coupling heat map did not change"

    bodies = []
    page.on("request", lambda r: r.url.endswith("/api/analyze") and bodies.append(r.post_data_json))
    before = seq(page)
    page.get_by_label("Routing iterations", exact=True).select_option("5")
    wait_for_new_analysis(page, before)
    assert bodies[-1]["routing_iterations"] == 5
    expect(step).to_have_text("Iteration 5 of 5")
    routing.get_by_role("button", name="Play").click()
    expect(step).to_have_text("Iteration 2 of 5", timeout=5_000)


def test_kernel_hover_and_primary_capsule_click(page):
    kernels = page.get_by_test_id("conv1-kernels")
    box = kernels.bounding_box()
    cell = box["width"] / 16
    page.mouse.move(box["x"] + 3.5 * cell, box["y"] + 2.5 * cell)  # kernel 2 * 16 + 3 = 35
    expect(page.locator("#kernel-index")).to_have_value("35")
    expect(page.locator("#kernel-caption")).to_contain_text("Filter 35")

    primary = page.get_by_test_id("primary-caps")
    primary.scroll_into_view_if_needed()
    box = primary.bounding_box()
    # Type 0 sits top left: a 6x6 tile, then a one-pixel gap; the atlas is 55 x 27.
    primary.click(position={"x": 2.5 * box["width"] / 55, "y": 4.5 * box["height"] / 27})
    expect(page.locator("#capsule-title")).to_contain_text("type 0, row 4, column 2")
    expect(page.locator("#capsule-title")).to_contain_text(re.compile(r"votes for digit \d"))
    expect(page.locator("#capsule-vector li")).to_have_count(8)


def test_layer_sizes_on_the_page_come_from_api_model(page, live_server):
    """The prose, the selects and the sliders quote /api/model, not numbers typed in again."""
    info = page.request.get(live_server + "/api/model").json()
    layers = {layer["name"]: layer for layer in info["layers"]}
    conv1, primary, digit = layers["conv1"], layers["primary_caps"], layers["digit_caps"]
    times = "\u00d7".join
    expected = {
        "input": times(map(str, info["input_shape"])),
        "conv1.filters": str(conv1["filters"]),
        "conv1.kernel": times([str(conv1["kernel_size"])] * 2),
        "conv1.map": times(map(str, conv1["output_shape"][:2])),
        "primary.types": str(primary["capsule_types"]),
        "primary.grid": times(map(str, primary["grid"])),
        "primary.capsules": f"{primary['capsules']:,}",
        "primary.dim": str(primary["capsule_dim"]),
        "digit.dim": str(digit["capsule_dim"]),
        "digit.matrix": times([str(primary["capsule_dim"]), str(digit["capsule_dim"])]),
        "sweep.max": f"+{info['sweep_perturbations'][-1]:g}",
        "slider.range": f"\u00b1{info['slider_half_range']:g}",
    }
    for key, text in expected.items():
        spans = page.locator(f"[data-model='{key}']")
        assert spans.count() >= 1, key
        assert set(spans.all_inner_texts()) == {text}, key
    expect(page.locator("#conv1-title")).to_have_text(
        f"1 Convolution: {conv1['filters']} filters of {expected['conv1.kernel']}")
    assert len(page.locator("[data-testid^=slider-]").all()) == digit["capsule_dim"]
    low, high = info["routing_iterations_range"]
    options = page.locator("#routing-iterations option").all_inner_texts()
    assert options == [str(n) for n in range(low, high + 1)]
    expect(page.locator("#routing-iterations")).to_have_value(str(info["routing_iterations"]))
    assert page.locator("#recon-digit option").count() == digit["capsules"]
    half = info["slider_half_range"]
    slider = page.get_by_test_id("slider-3")
    width = float(slider.get_attribute("max")) - float(slider.get_attribute("min"))
    assert width == pytest.approx(2 * half, abs=1e-6)
    # The kernel atlas is as many tiles as the server sent kernels.
    expect(page.locator("#kernel-index")).to_have_attribute("max", str(conv1["filters"] - 1))


def test_squash_plot_uses_the_servers_lengths_before_squashing(page):
    with page.expect_response(lambda r: r.url.endswith("/api/analyze"), timeout=TIMEOUT_MS) as info:
        page.locator(".gallery-item[data-label='6']").first.click()
    analysis = info.value.json()["primary_caps"]
    settle(page)
    plot = page.locator("#squash-plot")
    plot.scroll_into_view_if_needed()
    before = pixels(plot)
    primary = page.get_by_test_id("primary-caps")
    box = primary.bounding_box()
    # Type 9 (second row of the 8-wide atlas, second tile), row 1, column 4.
    primary.click(position={"x": (7 + 4.5) * box["width"] / 55, "y": (7 + 1.5) * box["height"] / 27})
    expect(page.locator("#capsule-title")).to_contain_text("type 9, row 1, column 4")
    caption = page.get_by_test_id("squash-caption")
    pre, post = analysis["pre_squash_lengths"][1][4][9], analysis["lengths"][1][4][9]  # [row][col][type]
    saturated = int((np.asarray(analysis["lengths"]) > 0.9).sum())
    expect(caption).to_have_text(f"Selected capsule: length {pre:.3f} before squashing, {post:.3f} after. "
                                 f"{saturated:,} of the {np.size(analysis['lengths']):,} capsules are longer than "
                                 "0.9 after squashing.")
    assert post == pytest.approx(pre ** 2 / (1 + pre ** 2), abs=2e-3)  # the server's numbers agree
    assert np.abs(pixels(plot) - before).max() > 0, "the selected capsule moved nowhere on the plot"


@pytest.mark.parametrize("ci, outcome", [("true", "error"), ("", "skipped")])
def test_browser_tests_fail_under_ci_when_chromium_is_missing(tmp_path, ci, outcome):
    """Without Chromium the browser tests are skipped, except under CI, where they fail and
    say what to install."""
    env = {**os.environ, "CI": ci, "CHROMIUM_PATH": str(tmp_path / "no-chromium")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", f"{__file__}::test_phone_width_has_no_horizontal_scroll",
         "-q", "-rfs", "-p", "no:cacheprovider"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert f"1 {outcome}" in result.stdout, result.stdout
    assert "apt-get install chromium" in result.stdout
    assert (result.returncode != 0) == (outcome == "error")


def test_phone_width_has_no_horizontal_scroll(browser, live_server):
    context, page, errors = open_page(browser, live_server, PHONE)
    try:
        overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth,"
                                 " document.body.scrollWidth]")
        assert overflow[0] <= overflow[1] and overflow[2] <= overflow[1], overflow
        for testid in ["draw", "prediction", *PANELS]:
            box = page.get_by_test_id(testid).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, testid
        assert_drawn(page, "reconstruction")
        assert not errors.unexpected(), errors.unexpected()
    finally:
        context.close()
