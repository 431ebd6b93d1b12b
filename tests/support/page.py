"""Driving the page in headless Chromium (Playwright, Debian's chromium): opening it, waiting for
its analyses, reading what it drew. The fixtures that use these are in tests/page/conftest.py."""
from __future__ import annotations

import io
import re
import time

import numpy as np
from PIL import Image

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips, or fails under CI, saying what to install
    expect = None

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 60_000  # analyses share two CPU cores with whatever else runs
PANELS = ["conv1-kernels", "relu-maps", "primary-caps", "routing", "digit-caps", "reconstruction"]


class PageErrors:
    """Console messages of type error and uncaught page errors, with per-test allowances."""

    def __init__(self, page):
        self.messages: list[str] = []
        self.allowed: list[re.Pattern] = []
        page.on("console", lambda m: m.type == "error" and self.messages.append(
            f"console: {m.text} ({m.location.get('url', '')})"))
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


def open_page(browser, url: str, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors = PageErrors(page)
    page.goto(url)
    # On load the page analyses the first gallery digit, so no panel starts empty.
    expect(page.get_by_test_id("prediction")).to_have_attribute("data-seq", re.compile(r"^\d+$"), timeout=TIMEOUT_MS)
    settle(page)
    return context, page, errors


def settle(page) -> None:
    """Wait until no drawing waits to be sent and no analysis is running."""
    page.wait_for_timeout(60)
    expect(page.locator("body")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)


def seq(page) -> int:
    return int(page.get_by_test_id("prediction").get_attribute("data-seq") or 0)


def wait_for_new_analysis(page, before: int) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while seq(page) <= before:
        assert time.monotonic() < deadline, "no new analysis arrived"
        page.wait_for_timeout(50)
    settle(page)


def answered(page, path: str, action, accept=lambda body: True, panel: str = "#transform-panel"):
    """Run `action`, wait for the answer to the matching POST to `path`, and until `panel` has
    drawn it (no `data-busy`). Returns (request body, answer)."""
    with page.expect_response(lambda r: r.url.endswith(path) and r.request.method == "POST"
                              and accept(r.request.post_data_json), timeout=TIMEOUT_MS) as info:
        action()
    response = info.value
    assert response.ok, response.text()
    expect(page.locator(panel)).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    return response.request.post_data_json, response.json()


def pixels(locator) -> np.ndarray:
    """An element's screenshot as an RGB array."""
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"), dtype=np.float32)


def assert_drawn(page, testid: str) -> None:
    locator = page.get_by_test_id(testid)
    expect(locator).to_be_visible()
    image = pixels(locator)
    assert image.std() > 0, f"{testid} is blank"


def draw(page, strokes) -> None:
    """Draw strokes given as lists of (x, y) in fractions of the drawing canvas."""
    box = page.get_by_test_id("draw").bounding_box()

    def at(point):
        return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]

    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(point), steps=6)
        page.mouse.up()


def wait_until_changed(locator, before: np.ndarray, timeout_s: float = 20) -> np.ndarray:
    deadline = time.monotonic() + timeout_s
    while True:
        after = pixels(locator)
        if after.shape != before.shape or np.abs(after - before).max() > 0:
            return after
        assert time.monotonic() < deadline, "the image did not change"
        time.sleep(0.1)


def wait_until_drawn(locator, timeout_s: float = 20) -> np.ndarray:
    """The image once drawn and steady: not uniform, and the same in two screenshots in a row
    (a lazy section draws its images only once scrolled into view)."""
    deadline = time.monotonic() + timeout_s
    before = pixels(locator)
    while True:
        time.sleep(0.2)
        after = pixels(locator)
        if np.ptp(after) > 0 and after.shape == before.shape and np.array_equal(after, before):
            return after
        assert time.monotonic() < deadline, "the image was not drawn"
        before = after


def canvas_rgba(page, testid: str) -> np.ndarray:
    """A canvas' own pixels (not a screenshot), found by data-testid or id: (height, width, 4) in 0..255."""
    height, width, data = page.evaluate("""(id) => {
        const c = document.querySelector(`[data-testid=${id}]`) || document.getElementById(id);
        return [c.height, c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];
    }""", testid)
    return np.asarray(data, dtype=np.float32).reshape(height, width, 4)


def assert_shows_image(page, testid: str, image) -> np.ndarray:
    """The grey canvas `testid` shows `image` (0..1) to within one level of 255."""
    shown = canvas_rgba(page, testid)[..., 0]
    expected = np.round(np.asarray(image, np.float32) * 255)
    assert shown.shape == expected.shape, testid
    assert np.abs(shown - expected).max() <= 1, f"{testid} does not show the server's image"
    return shown
