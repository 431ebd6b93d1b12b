"""Digits that fill their frame (issue #19): a low-resolution digit scaled up, so that its
strokes are soft and grey, and cropped tight, so that its ink touches the edges - a scan cut
to one digit, a thumbnail, a digit copied out of a form. There is barely any paper to measure
the paper on, yet such a digit must be read, whatever its size, softness or colours."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.errors import ApiError
from app.uploads.preprocess import image_bytes_to_mnist
from support.images import tight_digits


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
