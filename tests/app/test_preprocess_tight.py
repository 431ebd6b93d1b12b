"""Digits that fill their frame (issue #19): a low-resolution digit scaled up, so that its
strokes are soft and grey, and cropped tight, so that its ink touches the edges - a scan cut
to one digit, a thumbnail, a digit copied out of a form. There is barely any paper to measure
the paper on, yet such a digit must be read, whatever its size, softness or colours."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from app.errors import ApiError
from app.uploads.preprocess import image_bytes_to_mnist
from support.digits import SAMPLE as MNIST

SIZES = (16, 20, 24, 32, 48, 64, 200, 300, 400)  # pixels the digit's ink spans, before blurring
BLURS = (0.0, 0.5, 1.0)  # Gaussian radius, in MNIST pixels
CUTS = (0.05, 0.25, 0.5)  # the crop keeps what is darker than this share of the ink's peak
PAD = 6  # MNIST pixels of paper around the digit before cropping: room for the blur and margins


def soft_digit(digit: np.ndarray, size: int, blur: float) -> tuple[np.ndarray, float]:
    """A 28x28 digit scaled up bilinearly so that its ink spans `size` pixels, then blurred:
    ink 0..1 (paper 0), and the scale in pixels per MNIST pixel."""
    digit = np.pad(digit, PAD)
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    scale = size / int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))
    side = round(digit.shape[0] * scale)
    soft = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    if blur:
        soft = soft.filter(ImageFilter.GaussianBlur(blur * scale))
    return np.asarray(soft, np.float32) / 255.0, scale


def crop_tight(ink: np.ndarray, cut: float, margins: list[int]) -> np.ndarray:
    """The box of what is darker than `cut` of the peak, widened by `margins` (top, bottom, left,
    right): a side with no margin has the ink touching it."""
    rows = np.flatnonzero((ink > cut * ink.max()).any(axis=1))
    cols = np.flatnonzero((ink > cut * ink.max()).any(axis=0))
    top, bottom, left, right = margins
    return ink[max(rows[0] - top, 0):rows[-1] + 1 + bottom, max(cols[0] - left, 0):cols[-1] + 1 + right]


def tight_digits(count: int = 300, seed: int = 19) -> list[tuple[bytes, int, str]]:
    """(upload, label, kind) for `count` real MNIST test digits: every size and blur, the ink
    touching one, two or all four edges (a small margin on the others), dark on light or light
    on dark, as 8-bit grey PNG and, one in five, JPEG."""
    data = np.load(MNIST)
    rng = np.random.default_rng(seed)
    uploads = []
    for i in range(count):
        k = int(rng.integers(len(data["y_test"])))
        size, blur = SIZES[i % len(SIZES)], BLURS[i // len(SIZES) % len(BLURS)]
        ink, scale = soft_digit(data["x_test"][k], size, blur)
        cut, touching = float(rng.choice(CUTS)), int(rng.choice([1, 2, 4]))
        sides = rng.permutation(4)[:touching]
        margins = [0 if side in sides else round(rng.uniform(0.5, 3) * scale) for side in range(4)]
        ink = crop_tight(ink, cut, margins)
        dark = bool(rng.random() < 0.5)
        paper, pen = (rng.uniform(200, 245), rng.uniform(20, 60)) if dark else (rng.uniform(10, 50), rng.uniform(200, 245))
        image = Image.fromarray(np.clip(np.round(paper + (pen - paper) * ink), 0, 255).astype(np.uint8))
        fmt = "JPEG" if i % 5 == 4 else "PNG"
        buffer = io.BytesIO()
        image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        kind = (f"a {data['y_test'][k]} {ink.shape[1]}x{ink.shape[0]} blur {blur} cut at {cut} touching {touching} "
                f"{'dark on light' if dark else 'light on dark'} {fmt}")
        uploads.append((buffer.getvalue(), int(data["y_test"][k]), kind))
    return uploads


@pytest.fixture(scope="module")
def preprocessed() -> tuple[list[tuple[np.ndarray, int, str]], list[str]]:
    """Each tight digit preprocessed as an upload is: (input, label, kind), and the refusals."""
    read, refused = [], []
    for data, label, kind in tight_digits():
        try:
            read.append((image_bytes_to_mnist(data), label, kind))
        except ApiError as error:
            refused.append(f"{kind}: {error.message}")
    return read, refused


def test_the_set_spans_sizes_and_touches_the_edges():
    shapes = [Image.open(io.BytesIO(data)).size for data, _, _ in tight_digits()]
    sides = [max(shape) for shape in shapes]
    assert min(sides) <= 16 and sum(side <= 64 for side in sides) >= 150 and max(sides) >= 400


def test_no_digit_filling_its_frame_is_refused(preprocessed):
    _, refused = preprocessed
    assert not refused, f"{len(refused)} refused, e.g. " + "; ".join(refused[:5])


def test_the_model_reads_digits_filling_their_frame(app, preprocessed):
    read, refused = preprocessed
    images = np.stack([image for image, _, _ in read])
    predictions = app.extensions["models"]["capsnet"].classify(images)["prediction"]
    wrong = [f"{kind} read as {int(p)}" for (_, label, kind), p in zip(read, predictions) if p != label]
    total = len(read) + len(refused)
    assert len(wrong) + len(refused) <= 0.05 * total, f"{len(wrong)} of {total} misread, e.g. " + "; ".join(wrong[:5])
