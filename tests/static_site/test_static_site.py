"""The static edition in Chromium, served by a plain static file server from a sub-path: the
page runs with no server behind it (no request to /api/), every section draws, and the in-page
engine agrees with the Flask API on the same inputs (tests/conftest.py's `static_site`)."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from app.http.encoding import dequantize
from support.digits import PROJECT_ROOT, gallery_digit
from support.engine import engine
from support.images import dark_on_light_upload, encode
from support.page import TIMEOUT_MS, draw, expect

pytestmark = pytest.mark.browser

# What shows that each section has drawn: scrolled to in order, then waited for.
DRAWN = [("#conv1", "#kernel-legend .legend-labels"), ("#relu", "#relu-legend .legend-labels"),
         ("#primary", "#capsule-vector li"), ("#routing", "#routing-bars .bar-col"), ("#votes", "#agreement tr"),
         ("#votes", "#votes-plot circle"), ("#math", "#math-body > *"), ("#digitcaps", "#digit-caps .bar-col"),
         ("#recon", "#sliders input:enabled"), ("#recon", "#dimension-table tr"),
         ("#claims", "#capsnet-answer .bar-col"), ("#claims", "#cnn-answer .bar-col"),
         ("#robustness-panel", "#robustness-summary:not(:empty)"), ("#routing-share-panel", "#routing-share-table tr"),
         ("#multi", "#multi-lengths .bar-col"),
         ("#multi", "#multi-routing-summary:not(:empty)")]


def data_url(image) -> str:
    return "data:image/png;base64," + base64.b64encode(encode(image)).decode()


def test_the_page_runs_with_no_server_and_every_section_draws(site):
    page, requests = site
    expect(page.get_by_test_id("prediction")).to_have_text("0")  # the first gallery digit, a 0
    for scroll_to, drawn in DRAWN:
        page.locator(scroll_to).scroll_into_view_if_needed()
        expect(page.locator(drawn).first).to_be_attached(timeout=TIMEOUT_MS)
    expect(page.locator("[data-busy]")).to_have_count(0, timeout=TIMEOUT_MS)
    assert requests and not [url for url in requests if "/api/" in url]
    assert all(url.startswith(page.url.split("#")[0].rsplit("/", 1)[0]) for url in requests)  # all under /capsnet/
    footer = page.locator("footer").inner_text()
    assert "ONNX Runtime Web" in footer
    measured = json.loads((PROJECT_ROOT / "results" / "static_edition.json").read_text())["networks"]
    for name in ("capsnet", "cnn", "multimnist"):  # what the exported networks give up, as measured
        assert f"{100 * measured[name]['accuracy']:.2f}%" in footer, name
    assert "16-bit" in footer and "8-bit" in footer


def test_a_drawn_digit_is_read(site):
    page, _ = site
    before = page.get_by_test_id("prediction").get_attribute("data-seq")
    page.get_by_test_id("clear").click()
    draw(page, [[(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]])
    expect(page.get_by_test_id("prediction")).not_to_have_attribute("data-seq", before, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("prediction")).to_have_text("1", timeout=TIMEOUT_MS)


def sources() -> list[tuple[str, dict, dict]]:
    """(what, the in-page engine's source, the same input as a JSON body for /api/analyze)."""
    cases = []
    for label in range(10):
        pixels = (gallery_digit(label, 1) / 255.0).tolist()
        cases.append((f"gallery {label}", {"kind": "pixels", "pixels": pixels}, {"pixels": pixels}))
    for label in (2, 3, 5, 7, 8):
        url = data_url(dark_on_light_upload(gallery_digit(label, 2), 300))
        cases.append((f"upload {label}", {"kind": "dataurl", "url": url}, {"image": url}))
    from PIL import Image, ImageDraw
    for label, strokes in ((1, [(140, 40), (140, 240)]), (7, [(60, 50), (220, 50), (120, 250)]),
                           (4, [(170, 240), (170, 40), (50, 170), (230, 170)]),
                           (0, [(140, 30), (230, 140), (140, 250), (50, 140), (140, 30)]),
                           (2, [(60, 80), (140, 40), (210, 90), (60, 240), (230, 240)])):
        pad = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
        ImageDraw.Draw(pad).line(strokes, fill=(255, 255, 255, 255), width=22, joint="curve")
        url = data_url(pad)
        cases.append((f"drawn {label}", {"kind": "dataurl", "url": url}, {"image": url}))
    return cases


@pytest.mark.parametrize("iterations", [3])
def test_the_in_page_engine_agrees_with_the_server(site, client, iterations):
    """On 20 inputs (gallery digits, uploads, drawings): the input within 1/255 on average, the
    same prediction, the lengths within 1e-3 after every iteration, the arrays within their
    quantisation."""
    page, _ = site
    worst = {"input": 0.0, "lengths": 0.0}
    for what, source, body in sources():
        mine = engine(page, "analyze", source, iterations)
        theirs = client.post("/api/analyze", json={**body, "routing_iterations": iterations}).get_json()
        difference = np.abs(np.asarray(mine["input"]) - np.asarray(theirs["input"])).mean()
        assert difference <= 1 / 255, (what, difference)
        assert mine["prediction"] == theirs["prediction"], what
        for a, b in zip(mine["routing"]["iterations"], theirs["routing"]["iterations"], strict=True):
            gap = np.abs(np.asarray(a["lengths"]) - np.asarray(b["lengths"])).max()
            assert gap <= 1e-3, (what, gap)
            worst["lengths"] = max(worst["lengths"], gap)
            coupling = dequantize(b["coupling"])
            assert np.asarray(a["coupling"]["shape"]).tolist() == list(coupling.shape)
        worst["input"] = max(worst["input"], difference)
        assert np.abs(np.asarray(mine["reconstruction"]) - np.asarray(theirs["reconstruction"])).max() <= 2 / 255, what
        np.testing.assert_allclose(np.asarray(mine["primary_caps"]["lengths"]),
                                   np.asarray(theirs["primary_caps"]["lengths"]), atol=2e-3, err_msg=what)
    print(f"worst input difference {worst['input']:.5f}, worst length difference {worst['lengths']:.5f}")


def test_the_decoder_in_the_page_draws_what_the_server_draws(site, client):
    page, _ = site
    rng = np.random.default_rng(3)
    for digit in (0, 4, 9):
        vector = rng.normal(0, 0.2, 16).round(4).tolist()
        mine = engine(page, "reconstruct", digit, vector)["reconstruction"]
        theirs = client.post("/api/reconstruct", json={"digit": digit, "vector": vector}).get_json()["reconstruction"]
        assert np.abs(np.asarray(mine) - np.asarray(theirs)).max() <= 2 / 255
        grid = engine(page, "sweep", digit, vector)
        served = client.post("/api/sweep", json={"digit": digit, "vector": vector}).get_json()
        assert grid["perturbations"] == served["perturbations"]
        step = (grid["images"]["max"] - grid["images"]["min"]) / 255
        mine_images = grid["images"]["min"] + step * np.asarray(grid["images"]["data"], np.float32)
        assert np.abs(mine_images.reshape(dequantize(served["images"]).shape) - dequantize(served["images"])).max() <= 3 / 255
