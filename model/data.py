"""MNIST: from Keras by default, or from a local .npz in Keras' format."""
from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

MNIST_ENV = "CAPSNET_MNIST"
Split = tuple[np.ndarray, np.ndarray]


def load_mnist(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """(x_train, y_train), (x_test, y_test) as uint8, from `path`, $CAPSNET_MNIST or Keras."""
    path = path or os.environ.get(MNIST_ENV)
    if not path:
        import keras
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


def random_shift(image: tf.Tensor, max_shift: int = 2, seed: int | None = None) -> tf.Tensor:
    """Shift by up to `max_shift` pixels in each direction, zero padded (the paper's only augmentation)."""
    height, width, channels = image.shape
    padded = tf.pad(image, [[max_shift, max_shift], [max_shift, max_shift], [0, 0]])
    return tf.image.random_crop(padded, (height, width, channels), seed=seed)


def training_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int,
                     seed: int = 0, max_shift: int = 2) -> tf.data.Dataset:
    dataset = tf.data.Dataset.from_tensor_slices((to_model_input(images), labels.astype(np.int32)))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if max_shift:
        dataset = dataset.map(lambda x, y: (random_shift(x, max_shift), y),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int) -> tf.data.Dataset:
    dataset = tf.data.Dataset.from_tensor_slices((to_model_input(images), labels.astype(np.int32)))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
