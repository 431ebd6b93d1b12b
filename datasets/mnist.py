"""MNIST: from Keras by default, or from a local .npz in Keras' format."""
from __future__ import annotations

import os

import keras
import numpy as np

MNIST_ENV = "CAPSNET_MNIST"
Split = tuple[np.ndarray, np.ndarray]


def load_mnist(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """(x_train, y_train), (x_test, y_test) as uint8, from `path`, $CAPSNET_MNIST or Keras."""
    path = path or os.environ.get(MNIST_ENV)
    if not path:
        return keras.datasets.mnist.load_data()
    if not os.path.exists(path):
        raise FileNotFoundError(f"MNIST file not found: {path}")
    with np.load(path) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in 0..1."""
    return (np.asarray(images, np.float32) / 255.0)[..., None]


def split_validation(images: np.ndarray, labels: np.ndarray, size: int,
                     seed: int = 0) -> tuple[Split, Split]:
    """Hold out `size` training images, chosen by a fixed seed, to pick the best epoch."""
    if not 0 <= size < len(images):
        raise ValueError(f"validation size must be in [0, {len(images)}), got {size}.")
    order = np.random.default_rng(seed).permutation(len(images))
    held, kept = order[:size], order[size:]
    return (images[kept], labels[kept]), (images[held], labels[held])


def random_shift(images: np.ndarray, rng: np.random.Generator, max_shift: int = 2) -> np.ndarray:
    """Shift each image by up to `max_shift` pixels in each direction, zero padded (the paper's
    only augmentation). images (n, h, w, c) -> same shape."""
    n, height, width, _ = images.shape
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    top, left = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = top[:, None, None] + np.arange(height)[None, :, None]
    cols = left[:, None, None] + np.arange(width)[None, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols]


class MnistBatches(keras.utils.PyDataset):
    """(images, labels) batches in numpy, so that training needs no TensorFlow (any Keras backend).

    Training: reshuffled every epoch, randomly shifted, incomplete last batch dropped.
    Evaluation (`shuffle=False, max_shift=0`): every image once, in order.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, *,
                 shuffle: bool = True, max_shift: int = 2, seed: int = 0):
        super().__init__()
        self.images, self.labels = to_model_input(images), np.asarray(labels, np.int32)
        self.batch_size, self.shuffle, self.max_shift = batch_size, shuffle, max_shift
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(self.images))
        self.on_epoch_end()

    def __len__(self) -> int:
        whole, rest = divmod(len(self.images), self.batch_size)
        return whole + (rest > 0 and not self.shuffle)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        images = self.images[chosen]
        if self.max_shift:
            images = random_shift(images, self.rng, self.max_shift)
        return images, self.labels[chosen]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.rng.shuffle(self.order)


def training_batches(images: np.ndarray, labels: np.ndarray, batch_size: int,
                     seed: int = 0, max_shift: int = 2) -> MnistBatches:
    return MnistBatches(images, labels, batch_size, shuffle=True, max_shift=max_shift, seed=seed)


def evaluation_batches(images: np.ndarray, labels: np.ndarray, batch_size: int) -> MnistBatches:
    return MnistBatches(images, labels, batch_size, shuffle=False, max_shift=0)
