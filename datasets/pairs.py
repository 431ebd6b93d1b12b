"""MultiMNIST's pairs (paper, section 6), in numpy: two digits of different classes, each shifted by
up to 4 pixels each way inside a 36x36 canvas, overlaid by the pixel-wise maximum. Training,
evaluation and the server's `compose` input all place digits with `place`.
"""
from __future__ import annotations

import numpy as np

from model.spec import IMAGE_SHAPE, PAIR_SHAPE, PAIR_SHIFT

DIGIT = IMAGE_SHAPE[0]
MAX_SHIFT = PAIR_SHIFT  # pixels each way, for each digit independently
CANVAS = PAIR_SHAPE[0]  # 36
EVALUATION_SEED = 2017  # validation and test pairs are the same on every run and machine

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]  # first (n,), second (n,), offsets (n, 2, 2)


def draw_pairs(labels: np.ndarray, rng: np.random.Generator, shuffle: bool = True) -> Pairs:
    """One pair per image: image k (in a random order if `shuffle`) and a random image of another
    class, with each digit's top-left corner (row, col) in the canvas: 0..8, i.e. 4 +- 4."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        raise ValueError("MultiMNIST pairs need digits of at least two classes.")
    first = rng.permutation(len(labels)) if shuffle else np.arange(len(labels))
    second = rng.integers(0, len(labels), size=len(labels))
    clash = labels[second] == labels[first]
    while clash.any():  # redraw same-class partners: uniform over the other classes' images
        second[clash] = rng.integers(0, len(labels), size=int(clash.sum()))
        clash = labels[second] == labels[first]
    offsets = rng.integers(0, 2 * MAX_SHIFT + 1, size=(len(labels), 2, 2))
    return first, second, offsets


def evaluation_pairs(labels: np.ndarray) -> Pairs:
    """The fixed pairs of a validation or test set: image k first in pair k, its partner and the
    shifts drawn with EVALUATION_SEED (training/tasks.py's evaluation batches make the same)."""
    return draw_pairs(labels, np.random.default_rng(EVALUATION_SEED), shuffle=False)


def place(digits: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """digits (..., 28, 28) with offsets (..., 2) = top-left (row, col) in 0..8 -> (..., 36, 36)."""
    canvases = np.zeros((*digits.shape[:-2], CANVAS, CANVAS), digits.dtype)
    for canvas, digit, (top, left) in zip(canvases.reshape(-1, CANVAS, CANVAS),
                                          digits.reshape(-1, DIGIT, DIGIT), offsets.reshape(-1, 2)):
        canvas[top:top + DIGIT, left:left + DIGIT] = digit
    return canvases


def compose(digits: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Two float digits (2, 28, 28) in 0..1, shifted by (dy, dx) in -4..4 from the centre -> the
    (36, 36) pair the network sees: as the training pairs are made."""
    return place(np.asarray(digits, np.float32), np.asarray(shifts) + MAX_SHIFT).max(axis=0)


def overlay(images: np.ndarray, labels: np.ndarray, first: np.ndarray, second: np.ndarray,
            offsets: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """uint8 (N, 28, 28) MNIST images and pairs -> x float32 (n, 36, 36, 1) in 0..1, the pixel-wise
    maximum of the two placed digits; y {"labels": int32 (n, 2), "images": (n, 2, 36, 36, 1)},
    each digit alone in its place (what the decoder must redraw)."""
    digits = np.stack([images[first], images[second]], axis=1)  # (n, 2, 28, 28)
    alone = place(digits, offsets).astype(np.float32)[..., None] / 255.0
    pair_labels = np.stack([labels[first], labels[second]], axis=1).astype(np.int32)
    return alone.max(axis=1), {"labels": pair_labels, "images": alone}
