"""The page's "Two digits at once" section (MultiMNIST, the paper's Figure 5) in Chromium: the two
pens, the gallery pair dragged and moved with the keys, the sliders and the absent digit, each
checked against what POST /api/multi/analyze and /api/multi/reconstruct answered for the very
request the page sent. The served checkpoint may still be weak, so nothing here asserts which
digits the network finds: only that the page sends what the reader made and shows what the
server said."""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from support.digits import GALLERY
from support.page import PHONE, TIMEOUT_MS, answered, assert_shows_image, canvas_rgba, expect, open_page

pytestmark = pytest.mark.browser

ANALYZE = "/api/multi/analyze"
RECONSTRUCT = "/api/multi/reconstruct"
# Strokes in fractions of the pad: a "1" for pen a, a "7" for pen b whose bar crosses the "1".
ONE = [(0.36, 0.2), (0.36, 0.5), (0.36, 0.8)]
SEVEN = [(0.2, 0.3), (0.45, 0.3), (0.72, 0.3), (0.6, 0.55), (0.5, 0.8)]


# ------------------------------------------------------------------ helpers

class Multi:
    """The section of one page, with every answer of its two endpoints recorded in order."""

    def __init__(self, page):
        self.page = page
        self.section = page.locator("#multi")
        self.responses = []
        page.on("response", lambda r: (r.url.endswith(ANALYZE) or r.url.endswith(RECONSTRUCT))
                and self.responses.append(r))

    def open(self) -> tuple[dict, dict]:
        """Scroll to the section: its first analysis is of a pair of gallery digits."""
        answer = answered(self.page, ANALYZE, lambda: self.section.scroll_into_view_if_needed(), panel="#multi")
        self.settle()
        return answer

    def settle(self) -> None:
        self.page.wait_for_timeout(80)
        expect(self.section).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)

    def last(self, path: str) -> tuple[dict, dict]:
        """The last request to `path` and its answer (after settle())."""
        found = [r for r in self.responses if r.url.endswith(path)]
        assert found, f"no request to {path}"
        assert found[-1].ok, found[-1].text()
        return found[-1].request.post_data_json, found[-1].json()

    def count(self, path: str) -> int:
        return sum(r.url.endswith(path) for r in self.responses)

    def pad_box(self) -> dict:
        pad = self.page.get_by_test_id("multi-pad")
        pad.scroll_into_view_if_needed()
        return pad.bounding_box()

    def draw(self, pen: str, stroke) -> None:
        self.page.get_by_test_id(f"multi-pen-{pen}").click()
        box = self.pad_box()
        at = lambda p: (box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"])
        self.page.mouse.move(*at(stroke[0]))
        self.page.mouse.down()
        for point in stroke[1:]:
            self.page.mouse.move(*at(point), steps=6)
        self.page.mouse.up()
        self.settle()


@pytest.fixture()
def multi(page) -> Multi:
    return Multi(page)


def assert_shows_answer(page, answer: dict) -> None:
    """The top two, the ten lengths, the input and both reconstructions are the server's."""
    a, b = answer["top2"]
    expect(page.get_by_test_id("multi-top2")).to_have_text(f"{a} and {b}")
    bars = page.get_by_test_id("multi-lengths").locator(".bar-col")
    labels = [el.get_attribute("aria-label") for el in bars.all()]
    shown = [float(re.search(r"(-?[\d.]+)$", label).group(1)) for label in labels]
    np.testing.assert_allclose(shown, answer["lengths"], atol=6e-4)
    assert [int(el.inner_text()) for el in bars.locator(".bar-label").all()] == list(range(len(answer["lengths"])))
    expect(bars.nth(a)).to_have_class(re.compile(r"\bpick-a\b"))
    expect(bars.nth(b)).to_have_class(re.compile(r"\bpick-b\b"))
    assert page.get_by_test_id("multi-lengths").locator(".pick-a, .pick-b").count() == 2
    assert_shows_image(page, "multi-seen", answer["input"])
    assert_shows_image(page, "multi-reconstruction-a", answer["reconstructions"]["a"])
    assert_shows_image(page, "multi-reconstruction-b", answer["reconstructions"]["b"])


def gallery_pixels(testid: str) -> np.ndarray:
    """The 28x28 gallery digit behind a button `multi-gallery-<label>-<test index>`, in 0..1."""
    _, _, label, index = testid.split("-")
    return np.asarray(Image.open(GALLERY / f"{label}_{int(index):04d}.png").convert("L"), np.float32) / 255


def multimnist(page, live_server) -> dict:
    """The MultiMNIST model's entry of GET /api/models."""
    return next(m for m in page.request.get(live_server + "/api/models").json() if m["id"] == "multimnist")


def first_button(page, label: int) -> str:
    return page.locator(f"[data-testid^=multi-gallery-{label}-]").first.get_attribute("data-testid")


# ------------------------------------------------------------------ tests

def test_nothing_is_asked_before_the_section_is_near_and_its_accuracy_is_the_apis(page, multi, live_server):
    fetched = page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
    assert not [url for url in fetched if "/api/multi/" in url], "the section asked before it was seen"
    expect(page.get_by_test_id("multi-accuracy")).to_have_text("")
    multi.open()
    model = multimnist(page, live_server)
    expect(page.get_by_test_id("multi-accuracy")).to_have_text(f"{100 * model['test_accuracy']:.2f}%")
    size = model["input_shape"]
    mnist = page.request.get(live_server + "/api/model").json()["input_shape"]
    expect(page.locator("#multi [data-multi=input]").first).to_have_text(f"{size[0]}\u00d7{size[1]}")
    expect(page.locator("#multi [data-multi=shift]").first).to_have_text(str((size[0] - mnist[0]) // 2))
    assert page.evaluate("() => document.getElementById('multi-pad').width") % size[0] == 0


def test_two_pens_draw_two_layers_and_the_network_sees_their_maximum(page, multi, live_server):
    multi.open()
    before = multi.count(ANALYZE)
    page.get_by_test_id("multi-clear").click()
    multi.settle()
    assert multi.count(ANALYZE) == before, "an empty pad was sent"

    multi.draw("a", ONE)
    body, answer = multi.last(ANALYZE)
    only_a = np.asarray(body["pixels"], np.float32)
    size = multimnist(page, live_server)["input_shape"]
    assert only_a.shape == np.shape(answer["input"]) == tuple(size)
    right = int(0.55 * size[1])  # the "1" is drawn at 0.36 of the width, the "7" reaches 0.72
    assert only_a.max() > 0.5 and only_a[:, right:].max() == 0, "pen a's '1' is not where it was drawn"
    assert_shows_answer(page, answer)

    multi.draw("b", SEVEN)
    body, answer = multi.last(ANALYZE)
    both = np.asarray(body["pixels"], np.float32)
    assert (both >= only_a - 1e-6).all(), "pen b's layer erased pen a's ink"
    assert both[:, right:].max() > 0.5, "pen b's '7' is missing"
    assert_shows_answer(page, answer)
    # The answer is the API's own for those pixels, asked again by the test.
    again = page.request.post(live_server + ANALYZE, data={"pixels": body["pixels"]}).json()
    assert again["top2"] == answer["top2"]
    np.testing.assert_allclose(again["lengths"], answer["lengths"], atol=1e-5)

    # The pad shows the two layers in two colours: orange (red >> blue) and blue (blue >> red).
    pad = canvas_rgba(page, "multi-pad")[..., :3]
    assert (pad[..., 0] - pad[..., 2] > 120).sum() > 50 and (pad[..., 2] - pad[..., 0] > 120).sum() > 50

    # Clearing pen a leaves pen b's layer alone: what was sent is the maximum of the two layers.
    page.get_by_test_id("multi-clear-a").click()
    multi.settle()
    body, answer = multi.last(ANALYZE)
    only_b = np.asarray(body["pixels"], np.float32)
    assert only_b[:, right:].max() > 0.5 and only_b[:, :5].max() == 0
    crossing = (only_a > 0.2) & (only_b > 0.2)
    assert crossing.any(), "the strokes were meant to cross"
    np.testing.assert_allclose(both, np.maximum(only_a, only_b), atol=1e-3)
    assert (both[crossing] < (only_a + only_b)[crossing] - 0.1).any(), "the layers were added, not maxed"
    assert_shows_answer(page, answer)


def test_each_digit_is_redrawn_from_its_own_capsule_and_overlaid_in_two_colours(page, multi):
    _, answer = multi.open()
    assert_shows_answer(page, answer)
    a = np.asarray(answer["reconstructions"]["a"], np.float32)
    b = np.asarray(answer["reconstructions"]["b"], np.float32)
    shown_a = canvas_rgba(page, "multi-reconstruction-a")[..., 0]
    shown_b = canvas_rgba(page, "multi-reconstruction-b")[..., 0]
    assert shown_a.std() > 0 and shown_b.std() > 0, "a reconstruction is blank"
    assert np.abs(shown_a - shown_b).max() > 60, "the two reconstructions are the same picture"

    overlay = canvas_rgba(page, "multi-overlay")[..., :3]
    assert overlay.shape[:2] == a.shape
    red, blue = overlay[..., 0], overlay[..., 2]
    orange, bluish = red - blue > 40, blue - red > 40
    assert orange.sum() >= 3 and bluish.sum() >= 3, "the overlay does not show both colours"
    assert (a[orange] > b[orange]).all(), "orange where reconstruction a is not the stronger"
    assert (b[bluish] > a[bluish]).all(), "blue where reconstruction b is not the stronger"
    # Under them the input in grey: no channel anywhere darker than GREY x the input's ink (the
    # trained decoder redraws nearly all the ink, so a grey seen alone is rare: this holds always),
    # and black where there is neither ink nor reconstruction.
    inked = np.asarray(answer["input"], np.float32)
    grey = 255 * page.evaluate("import('/static/sections/multi/multi-draw.js').then((m) => m.GREY)") * inked
    assert grey.max() > 20 and (overlay >= np.round(grey)[..., None] - 1).all(), "the input's grey is missing"
    background = (a < 0.02) & (b < 0.02) & (inked == 0)
    assert background.sum() > 100 and overlay[background].max() <= 2 * 255 * 0.02 + 1
    da, db = answer["top2"]
    expect(page.get_by_test_id("multi-overlay")).to_have_attribute(
        "aria-label", re.compile(f"a \\(digit {da}\\).*b \\(digit {db}\\)"))


def test_two_gallery_digits_are_composed_and_moved_by_dragging_and_arrow_keys(page, multi, live_server):
    multi.open()
    page.get_by_test_id("multi-clear").click()
    page.get_by_test_id("multi-pen-a").click()
    first, second = first_button(page, 7), first_button(page, 3)
    page.get_by_test_id(first).click()
    multi.settle()
    expect(page.get_by_test_id("multi-pen-b")).to_have_attribute("aria-pressed", "true")
    body, _ = multi.last(ANALYZE)
    assert "pixels" in body and "compose" not in body  # one digit alone: sent as the canvas

    page.get_by_test_id(second).click()
    multi.settle()
    body, answer = multi.last(ANALYZE)
    assert [(d["dx"], d["dy"]) for d in body["compose"]] == [(0, 0), (0, 0)]
    for digit, testid in zip(body["compose"], (first, second)):
        np.testing.assert_allclose(digit["pixels"], gallery_pixels(testid), atol=1e-3)
    assert_shows_answer(page, answer)

    # Drag pen b's digit 3 pixels right and 2 up (a pixel: the pad's width / the model's input).
    box = multi.pad_box()
    unit = box["width"] / multimnist(page, live_server)["input_shape"][1]
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 3.2 * unit, y - 2.2 * unit, steps=8)
    page.mouse.up()
    multi.settle()
    body, answer = multi.last(ANALYZE)
    assert [(d["dx"], d["dy"]) for d in body["compose"]] == [(0, 0), (3, -2)]
    assert_shows_answer(page, answer)

    # The keys: left once, down past the limit (4: (36 - 28) / 2); then pen a's digit, right once.
    limit = (multimnist(page, live_server)["input_shape"][0] - len(gallery_pixels(first))) // 2
    for key in ["ArrowLeft"] + ["ArrowDown"] * (limit + 5):
        page.keyboard.press(key)
    multi.settle()
    body, answer = multi.last(ANALYZE)
    assert [(d["dx"], d["dy"]) for d in body["compose"]] == [(0, 0), (2, limit)]
    expect(page.get_by_test_id("multi-offsets")).to_contain_text(f"dx +2, dy +{limit}")
    page.keyboard.press("a")
    expect(page.get_by_test_id("multi-pen-a")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("ArrowRight")
    multi.settle()
    body, answer = multi.last(ANALYZE)
    assert [(d["dx"], d["dy"]) for d in body["compose"]] == [(1, 0), (2, limit)]
    assert_shows_answer(page, answer)


def test_a_slider_redraws_its_reconstruction_from_the_moved_capsule(page, multi, live_server):
    half = page.request.get(live_server + "/api/model").json()["slider_half_range"]
    _, answer = multi.open()
    a, b = answer["top2"]
    caps = np.asarray(answer["digit_caps"], np.float32)
    slider = page.get_by_test_id("multi-slider-0")
    assert float(slider.input_value()) == pytest.approx(caps[a][0], abs=0.011)
    assert float(slider.get_attribute("max")) - float(slider.get_attribute("min")) == pytest.approx(2 * half, abs=0.011)
    before_a = canvas_rgba(page, "multi-reconstruction-a")[..., 0]
    before_b = canvas_rgba(page, "multi-reconstruction-b")[..., 0]
    before_overlay = canvas_rgba(page, "multi-overlay")[..., :3]

    slider.focus()
    page.keyboard.press("End")
    multi.settle()
    body, moved = multi.last(RECONSTRUCT)
    assert body["digit"] == a
    assert body["vector"][0] == pytest.approx(caps[a][0] + half, abs=0.011)
    np.testing.assert_allclose(body["vector"][1:], caps[a][1:], atol=1e-5)
    shown = assert_shows_image(page, "multi-reconstruction-a", moved["reconstruction"])
    assert np.abs(shown - before_a).max() > 0, "reconstruction a did not change"
    assert np.array_equal(canvas_rgba(page, "multi-reconstruction-b")[..., 0], before_b)
    assert np.abs(canvas_rgba(page, "multi-overlay")[..., :3] - before_overlay).max() > 0

    page.get_by_test_id("multi-slider-capsule").select_option("b")
    assert float(slider.input_value()) == pytest.approx(caps[b][0], abs=0.011)
    page.get_by_test_id("multi-slider-3").focus()
    page.keyboard.press("Home")
    multi.settle()
    body, moved = multi.last(RECONSTRUCT)
    assert body["digit"] == b and body["vector"][3] == pytest.approx(caps[b][3] - half, abs=0.011)
    assert_shows_image(page, "multi-reconstruction-b", moved["reconstruction"])

    page.get_by_test_id("multi-slider-reset").click()
    multi.settle()
    assert_shows_image(page, "multi-reconstruction-b", answer["reconstructions"]["b"])
    page.get_by_test_id("multi-slider-capsule").select_option("a")
    assert float(slider.input_value()) == pytest.approx(caps[a][0] + half, abs=0.011)  # a keeps its move


def test_a_digit_the_network_did_not_choose_is_redrawn_from_its_own_capsule(page, multi):
    _, answer = multi.open()
    lengths = np.asarray(answer["lengths"])
    caps = np.asarray(answer["digit_caps"], np.float32)
    ink = {key: np.sum(answer["reconstructions"][key]) for key in ("a", "b")}
    shortest = int(lengths.argmin())
    body, drawn = multi.last(RECONSTRUCT)  # the analysis' own: the shortest capsule by default
    assert body["digit"] == shortest
    np.testing.assert_allclose(body["vector"], caps[shortest], atol=1e-6)
    assert_shows_image(page, "multi-absent", drawn["reconstruction"])
    note = page.get_by_test_id("multi-absent-note")
    expect(note).to_contain_text(f"length {lengths[shortest]:.3f}")
    expect(note).to_contain_text(f"{np.sum(drawn['reconstruction']):.1f} of ink")
    expect(note).to_contain_text(f"{ink['a']:.1f} of ink")

    other = next(d for d in range(len(lengths)) if d not in answer["top2"] and d != shortest)
    page.get_by_test_id("multi-absent-digit").select_option(str(other))
    multi.settle()
    body, drawn = multi.last(RECONSTRUCT)
    assert body["digit"] == other
    np.testing.assert_allclose(body["vector"], caps[other], atol=1e-6)
    assert_shows_image(page, "multi-absent", drawn["reconstruction"])
    expect(note).to_contain_text(f"Digit capsule {other}: length {lengths[other]:.3f}")

    chosen = answer["top2"][0]
    page.get_by_test_id("multi-absent-digit").select_option(str(chosen))
    multi.settle()
    expect(note).to_contain_text(f"{chosen} is one of the two digits the network chose")
    assert_shows_image(page, "multi-absent", multi.last(RECONSTRUCT)[1]["reconstruction"])


def routing_cell(field: dict, row: int, col: int, scale: int = 2) -> tuple[int, int]:
    """(y, x) on a routing map of the centre of grid position (row, col)'s square: the square is
    one stride wide, centred on its capsules' receptive field, the map `scale` units per pixel."""
    corner = (field["size"] - field["stride"]) / 2 * scale
    half = field["stride"] * scale / 2
    return int(corner + row * field["stride"] * scale + half), int(corner + col * field["stride"] * scale + half)


def test_where_routing_moved_the_votes_is_the_servers_measure(page, multi):
    body, answer = multi.open()
    shares = answer["routing_shares"]
    iterations = shares["iterations"]
    assert body["routing_iterations"] == len(iterations)  # the page asks for the count it offers
    select = page.get_by_test_id("multi-routing-iteration")
    expect(select).to_have_value(str(len(iterations)))  # the last iteration first
    a, b = answer["top2"]
    last = iterations[-1]
    summary = page.get_by_test_id("multi-routing-summary")
    expect(summary).to_contain_text(f"{100 * last['overall'][a]:.2f}% of their votes to {a} (a)")
    expect(summary).to_contain_text(f"{100 * last['overall'][b]:.2f}% to {b} (b)")
    # The square that moved most is in full colour: the pen's towards the digit, grey away from it.
    moved = {pen: np.asarray(last[pen]) - 0.1 for pen in ("a", "b")}
    pen = max(moved, key=lambda p: np.abs(moved[p]).max())
    row, col = np.unravel_index(np.abs(moved[pen]).argmax(), moved[pen].shape)
    y, x = routing_cell(shares["receptive_field"], row, col)
    colour = canvas_rgba(page, f"multi-routing-{pen}")[..., :3][y, x]
    full = {"a": [255, 140, 30], "b": [60, 150, 255]}[pen] if moved[pen][row, col] > 0 else [200, 200, 200]
    np.testing.assert_allclose(colour, full, atol=2)
    biggest = 100 * moved[pen][row, col]
    expect(summary).to_contain_text(f"{biggest:+.2f} points for {pen}".replace("-", "\u2212"))

    # Iteration 1 is the even split: no square coloured, only the grey input.
    select.select_option("1")
    expect(summary).to_have_text(re.compile(r"^Iteration 1: every primary capsule splits its vote evenly, 10% "))
    plain = canvas_rgba(page, "multi-routing-a")[..., :3]
    assert np.ptp(plain, axis=-1).max() == 0 and plain.max() > 0, "iteration 1 should show the grey input only"

    # Asking for one iteration re-analyses the same pair with routing_iterations 1.
    sent = multi.count(ANALYZE)
    page.get_by_test_id("multi-routing-runs").select_option("1")
    multi.settle()
    assert multi.count(ANALYZE) == sent + 1
    body, answer = multi.last(ANALYZE)
    assert body["routing_iterations"] == 1 and len(answer["routing_shares"]["iterations"]) == 1
    assert select.locator("option").count() == 1


def test_the_servers_error_shows_in_the_sections_own_status_line(page_and_errors):
    page, errors = page_and_errors
    errors.allow(r"status of 422")
    multi = Multi(page)
    multi.open()
    page.route("**" + ANALYZE, lambda route: route.fulfill(
        status=422, content_type="application/json", body='{"error": "refused by the test"}'))
    multi.draw("a", ONE)
    expect(page.get_by_test_id("multi-status")).to_contain_text("refused by the test")
    expect(page.get_by_test_id("status")).not_to_contain_text("refused by the test")


def test_the_section_fits_a_phone(browser, live_server):
    context, page, errors = open_page(browser, live_server, PHONE)
    try:
        Multi(page).open()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        for testid in ("multi-pad", "multi-lengths", "multi-overlay", "multi-reconstruction-b", "multi-slider-0"):
            box = page.get_by_test_id(testid).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, testid
        assert not errors.unexpected(), errors.unexpected()
    finally:
        context.close()
