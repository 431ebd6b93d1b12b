"""Real MNIST digits without the full data set: the page's gallery (40 test digits) and the
tests' sample of 2,000 (datasets/subset.py); a tiny MNIST-format file made from the gallery."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GALLERY = PROJECT_ROOT / "web" / "gallery"
SAMPLE = PROJECT_ROOT / "tests" / "data" / "mnist_test_2000.npz"


def gallery_digit(label: int, index: int = 0) -> np.ndarray:
    """A real MNIST test digit shipped in web/gallery, as uint8 (28, 28)."""
    path = sorted(GALLERY.glob(f"{label}_*.png"))[index]
    return np.asarray(Image.open(path).convert("L"))


def gallery() -> tuple[np.ndarray, np.ndarray]:
    """The 40 real MNIST test digits of web/gallery: uint8 (40, 28, 28) and their labels."""
    paths = sorted(GALLERY.glob("*.png"))
    images = np.stack([np.asarray(Image.open(p).convert("L")) for p in paths])
    labels = np.array([int(p.name.split("_")[0]) for p in paths], np.uint8)
    return images, labels


def tiny_npz(path: Path, train: int = 60, test: int = 20) -> Path:
    """A small MNIST-format npz from the gallery digits (shifted copies to reach the counts)."""
    images, labels = gallery()
    x_train = np.concatenate([images, np.roll(images, 1, axis=2)])[:train]
    y_train = np.concatenate([labels, labels])[:train]
    x_test = np.roll(images, -1, axis=1)[:test * 2:2]
    y_test = labels[:test * 2:2]
    np.savez(path, x_train=x_train.astype(np.uint8), y_train=y_train.astype(np.uint8),
             x_test=x_test.astype(np.uint8), y_test=y_test.astype(np.uint8))
    return path
