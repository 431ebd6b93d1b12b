"""The static edition's experiments answer as the server does: the votes and their agreement,
the math panel, the claims lab and the two-digit network, computed in the page (the in-page
engine) against the Flask API on the same inputs, every numeric leaf within the exported
weights' precision (docs/static-edition.md) and every integer (a prediction, a digit) equal."""
from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from support.digits import gallery_digit
from support.engine import differences, engine
from support.images import encode

pytestmark = pytest.mark.browser

# The largest difference allowed, relative to the served array's largest magnitude: the CapsNet's
# W travels in float16 and its PrimaryCaps kernel in 8 bits (static_site/export.py's WEIGHTS).
CLOSE = 0.01
# The two-digit network's W travels in 8 bits: its answer (the two longest capsules) holds, its
# numbers move more.
PAIRS_CLOSE = 0.05


def pixels(label: int, index: int = 1) -> list:
    return (gallery_digit(label, index) / 255.0).round(4).tolist()


def assert_close(mine, theirs, tolerance: float = CLOSE) -> dict:
    found = differences(mine, theirs)
    far = {path: gap for path, gap in found.items() if gap > tolerance}
    assert not far, far
    return found


@pytest.mark.parametrize(("label", "digit", "iterations"), [(3, 3, 3), (5, 5, 1), (8, 3, 5)])
def test_the_votes_and_their_agreement(site, client, label, digit, iterations):
    page, _ = site
    mine = engine(page, "votes", pixels(label), digit, iterations)
    theirs = client.post("/api/votes", json={"pixels": pixels(label), "digit": digit,
                                             "routing_iterations": iterations}).get_json()
    saliency = {path: gap for path, gap in assert_close(mine, theirs, 0.05).items() if "saliency" in path}
    assert saliency and max(saliency.values()) <= 0.05  # the gradient, through every iteration


@pytest.mark.parametrize(("capsule", "digit", "iterations"), [(0, 7, 3), (577, 7, 2), (1151, 1, 3)])
def test_the_math_panel(site, client, capsule, digit, iterations):
    page, _ = site
    mine = engine(page, "capsuleMath", pixels(7), capsule, digit, iterations)
    theirs = client.post("/api/capsule-math", json={"pixels": pixels(7), "capsule": capsule, "digit": digit,
                                                    "routing_iterations": iterations}).get_json()
    assert_close(mine, theirs)


def test_the_claims_lab_compares_both_networks(site, client):
    page, _ = site
    for label, transform in ((4, {"rotation": 25, "scale_x": 0.8, "scale_y": 0.8}), (9, {"thickness": 1.5, "dx": 3})):
        mine = engine(page, "compare", pixels(label), transform)
        theirs = client.post("/api/compare", json={"pixels": pixels(label), "transform": transform}).get_json()
        assert_close(mine, theirs)


def test_a_transform_sweep(site, client):
    page, _ = site
    body = {"parameter": "rotation", "values": [-60, -30, 0, 30, 60], "digit": None, "transform": {"scale_y": 0.9}}
    mine = engine(page, "transformSweep", pixels(2), body)
    served = {k: v for k, v in body.items() if v is not None}
    theirs = client.post("/api/transform-sweep", json={"pixels": pixels(2), **served}).get_json()
    assert_close(mine, theirs)


def overlapping_upload() -> str:
    """Two gallery digits overlapping on a big white page, as a PNG data URL."""
    a, b = gallery_digit(4, 1).astype(np.float32), gallery_digit(7, 2).astype(np.float32)
    canvas = np.zeros((40, 44), np.float32)
    canvas[4:32, 4:32] = a
    canvas[9:37, 12:40] = np.maximum(canvas[9:37, 12:40], b)
    page = Image.new("L", (600, 500), 255)
    page.paste(Image.fromarray((255 - canvas).astype(np.uint8)).resize((264, 240), Image.Resampling.BICUBIC), (150, 120))
    return "data:image/png;base64," + base64.b64encode(encode(page)).decode()


@pytest.mark.parametrize("body", [
    {"compose": [{"pixels": pixels(3), "dx": -3, "dy": 2}, {"pixels": pixels(6), "dx": 4, "dy": -1}], "routing_iterations": 3},
    {"compose": [{"pixels": pixels(0), "dx": 2, "dy": 2}, {"pixels": pixels(1), "dx": -4, "dy": 0}], "routing_iterations": 1},
    {"image": "upload"},
], ids=["3 and 6", "0 and 1, one iteration", "an upload"])
def test_two_digits_at_once(site, client, body):
    page, _ = site
    if body.get("image") == "upload":
        body = {"image": overlapping_upload()}
    mine = engine(page, "multiAnalyze", body)
    theirs = client.post("/api/multi/analyze", json=body).get_json()
    assert np.abs(np.asarray(mine["input"]) - np.asarray(theirs["input"])).mean() <= 1 / 255  # the pair made alike
    assert mine["top2"] == theirs["top2"]
    assert_close(mine, theirs, PAIRS_CLOSE)
    vector = theirs["digit_caps"][theirs["top2"][0]]
    assert_close(engine(page, "multiReconstruct", theirs["top2"][0], vector),
                 client.post("/api/multi/reconstruct", json={"digit": theirs["top2"][0], "vector": vector}).get_json())
