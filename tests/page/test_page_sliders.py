"""The reconstruction's 16 sliders and the Figure 4 grid on the Flask page: each move redraws the
decoder's image of the moved capsule, as the server decodes it (POST /api/reconstruct and
/api/sweep), within what an 8-bit canvas keeps. The static edition draws the same from its own
decoder (tests/static_site/test_static_site.py)."""
from __future__ import annotations

import numpy as np
import pytest

from support.page import canvas_rgba, expect, settle

pytestmark = pytest.mark.browser

TOLERANCE = 1 / 255  # the canvas rounds each pixel to 8 bits


def slider_vector(page) -> tuple[int, np.ndarray]:
    digit, values = page.evaluate("""() => [Number(document.getElementById('recon-digit').value),
        Array.from({length: 16}, (_, d) => Number(document.getElementById(`slider-${d}`).value))]""")
    return digit, np.asarray(values, np.float32)


def test_each_slider_move_redraws_the_servers_decoding(page, app):
    service = app.extensions["models"]["capsnet"]
    requests = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    canvas = page.get_by_test_id("reconstruction")
    canvas.scroll_into_view_if_needed()
    for slider, key in (("slider-0", "End"), ("slider-3", "Home"), ("slider-7", "ArrowRight")):
        drawn_before = canvas.get_attribute("data-drawn")
        page.get_by_test_id(slider).focus()
        page.keyboard.press(key)
        expect(canvas).not_to_have_attribute("data-drawn", drawn_before or "")
        settle(page)  # the newest move's answer drawn last
        digit, vector = slider_vector(page)
        drawn = canvas_rgba(page, "reconstruction")[..., 0].ravel() / 255
        assert np.abs(drawn - service.reconstruct(digit, vector).ravel()).max() <= TOLERANCE + 0.5 / 255, slider
    assert any("POST" in r and r.endswith("/api/reconstruct") for r in requests)
    page.get_by_role("button", name="Show the perturbation grid").click()
    expect(page.get_by_test_id("sweep")).to_be_visible()
    assert any("POST" in r and r.endswith("/api/sweep") for r in requests)
