"""The claims lab's transforms in the browser (web/engines/browser/transforms.js) against
datasets/transforms.py's apply_transform, in Chromium.

On the same gallery digits and parameters (each parameter alone, at its ranges' ends, fractional
thickness, several combined, an empty image) the page's result must be within 1/255 of the
server's on average, and the CapsNet and the CNN must predict the same digits on both. The ranges
are read from GET /api/model, as the static edition reads them, and refusals say what
check_transform says.
"""
from __future__ import annotations

import numpy as np
import pytest

from datasets.transforms import apply_transform, check_transform
from support.digits import gallery_digit

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(scripts_page):
    return scripts_page  # one page for the module (tests/page/conftest.py)


MODULE = "/static/engines/browser/transforms.js"
TOLERANCE = 1 / 255
SIZE = 28

# (kind, (label, gallery index) or None for an empty image, parameters)
CASES = [
    ("identity", (0, 0), {}),
    ("rotation", (1, 1), {"rotation": 30}),
    ("rotation", (2, 0), {"rotation": -45.5}),
    ("rotation", (3, 1), {"rotation": 180}),
    ("rotation", (4, 0), {"rotation": -180}),
    ("rotation", (7, 2), {"rotation": 90}),
    ("scale", (5, 0), {"scale_x": 0.5}),
    ("scale", (6, 1), {"scale_y": 2}),
    ("scale", (8, 0), {"scale_x": 1.37, "scale_y": 0.71}),
    ("scale", (9, 1), {"scale_x": 2, "scale_y": 2}),
    ("shear", (1, 0), {"shear": 0.5}),
    ("shear", (4, 2), {"shear": -0.5}),
    ("shear", (7, 0), {"shear": 0.23}),
    ("shift", (2, 1), {"dx": 3, "dy": -2}),
    ("shift", (3, 0), {"dx": 10}),
    ("shift", (5, 2), {"dy": -10}),
    ("shift", (6, 0), {"dx": -2.5, "dy": 1.75}),
    ("thickness", (0, 1), {"thickness": 1}),
    ("thickness", (8, 1), {"thickness": -1}),
    ("thickness", (9, 0), {"thickness": 2}),
    ("thickness", (2, 2), {"thickness": -2}),
    ("thickness", (3, 2), {"thickness": 0.4}),
    ("thickness", (6, 2), {"thickness": -1.6}),
    ("combined", (0, 2), {"rotation": 20, "scale_x": 1.2, "scale_y": 0.9, "shear": 0.3,
                          "dx": 2, "dy": -1, "thickness": 0.7}),
    ("combined", (4, 1), {"rotation": -70, "shear": -0.2, "thickness": -0.5, "dy": 3.3}),
    ("combined", (9, 2), {"rotation": 180, "scale_x": 0.5, "scale_y": 2, "shear": 0.5,
                          "dx": -10, "dy": 10, "thickness": -2}),
    ("combined", (5, 1), {"rotation": 12.5, "scale_x": 0.8, "thickness": 1.3, "dx": -1.2}),
    ("empty", None, {}),
    ("empty", None, {"rotation": 45, "scale_x": 1.5, "thickness": 1.5, "dx": 4}),
]

# Out-of-range and unknown parameters: the page must refuse each in check_transform's words.
REFUSED = [{"rotation": 200}, {"scale_x": 0.25}, {"scale_y": 3}, {"shear": -0.51},
           {"dx": -11}, {"thickness": 2.5}, {"colour": 1}]
NOT_NUMBERS = [{"dy": "3"}, {"rotation": None}]  # Python fails on these before its message


def source(digit) -> np.ndarray:
    if digit is None:
        return np.zeros((SIZE, SIZE), np.float32)
    return gallery_digit(*digit).astype(np.float32) / np.float32(255)


@pytest.fixture(scope="module")
def ranges(app):
    return app.test_client().get("/api/model").get_json()["transforms"]


def transform_in_page(page, ranges, cases) -> np.ndarray:
    """applyTransform on each (pixels, parameters) in Chromium -> float32 (n, 28, 28)."""
    result = page.evaluate(
        """async ({module, cases, ranges, size}) => {
            const { applyTransform } = await import(module);
            return cases.map(([pixels, t]) => Array.from(
                applyTransform(Float32Array.from(pixels), size, size, t, ranges)));
        }""",
        {"module": MODULE, "ranges": ranges, "size": SIZE,
         "cases": [[image.ravel().tolist(), t] for image, t in cases]})
    return np.asarray(result, np.float32).reshape(len(cases), SIZE, SIZE)


def test_transforms_in_the_page_match_the_server(app, page, ranges):
    images = [source(digit) for _, digit, _ in CASES]
    expected = np.stack([apply_transform(image, t) for image, (_, _, t) in zip(images, CASES)])
    got = transform_in_page(page, ranges, [(image, t) for image, (_, _, t) in zip(images, CASES)])

    assert got.dtype == expected.dtype == np.float32
    assert got.min() >= 0 and got.max() <= 1
    differences = np.abs(got.astype(np.float64) - expected).mean(axis=(1, 2))
    worst: dict[str, float] = {}
    for (kind, _, _), difference in zip(CASES, differences):
        worst[kind] = max(worst.get(kind, 0.0), float(difference))
    largest = np.abs(got.astype(np.float64) - expected).max()
    print("\nworst mean |JS - Python| per kind:",
          ", ".join(f"{kind} {value:.2e}" for kind, value in worst.items()), f"(largest pixel {largest:.2e})")
    bad = [(kind, digit, t, float(d)) for (kind, digit, t), d in zip(CASES, differences) if d > TOLERANCE]
    assert not bad, f"mean absolute difference over 1/255 (worst per kind {worst}): {bad}"

    for name in ("capsnet", "cnn"):
        model = app.extensions["models"][name]
        on_server = model.classify(expected)["prediction"]
        in_page = model.classify(got)["prediction"]
        differ = [(CASES[i][:2], int(on_server[i]), int(in_page[i])) for i in np.flatnonzero(on_server != in_page)]
        assert not differ, f"{name} predicts differently on the page's transforms: {differ}"


def test_defaults_come_from_the_ranges(page, ranges):
    image = source((3, 0))
    identity = {name: spec["default"] for name, spec in ranges.items()}
    got = transform_in_page(page, ranges, [(image, {}), (image, identity)])
    np.testing.assert_array_equal(got[0], image)
    np.testing.assert_array_equal(got[1], image)


def test_refusals_say_what_the_server_says(page, ranges):
    answers = page.evaluate(
        """async ({module, cases, ranges}) => {
            const { applyTransform } = await import(module);
            return cases.map((t) => {
                try {
                    applyTransform(new Float32Array(784), 28, 28, t, ranges);
                    return null;
                } catch (error) {
                    return { status: error.status, message: error.message };
                }
            });
        }""",
        {"module": MODULE, "cases": REFUSED + NOT_NUMBERS, "ranges": ranges})
    for transform, answer in zip(REFUSED + NOT_NUMBERS, answers):
        assert answer is not None and answer["status"] == 422, (transform, answer)
        if transform in NOT_NUMBERS:
            (name, _), = transform.items()
            assert answer["message"].startswith(f"{name} must be in "), answer
            continue
        with pytest.raises(ValueError) as refused:
            check_transform(transform)
        assert answer["message"] == str(refused.value), transform
