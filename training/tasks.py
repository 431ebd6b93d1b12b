"""What each model learns from and is measured on: its training and evaluation batches, made from
MNIST's arrays (uint8 images, labels), and the accuracy report that export and evaluation print.

The MNIST models (the CapsNet, the CNN) see single digits; the MultiMNIST CapsNet sees pairs made
on the fly (datasets/pairs.py). `task(model_id)` gives the one for a model of model/registry.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from datasets.mnist import evaluation_batches, to_model_input, training_batches
from datasets.pairs import EVALUATION_SEED, draw_pairs, overlay
from model.forward import compiled_forward, in_batches
from model.multimnist import same_pair
from model.registry import card
from model.spec import NUM_CLASSES, PAIR_SHAPE


@dataclass(frozen=True)
class Task:
    training_batches: Callable[..., keras.utils.PyDataset]  # (images, labels, batch_size, seed)
    evaluation_batches: Callable[..., keras.utils.PyDataset]  # (images, labels, batch_size)
    accuracy_report: Callable[..., dict]  # (model, images, labels) -> accuracy, count, per class
    title: str = "test"  # evaluate's last line: "<title> accuracy: 0.XXXX on N <unit>"


# ---------------------------------------------------------------- single digits

def predict_digits(model: keras.Model, images: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """The predicted digit of every uint8 (n, 28, 28) image."""
    forward = compiled_forward(model, ["prediction"], image_shape=(*images.shape[1:], 1))
    return in_batches(forward, to_model_input(images), batch_size)["prediction"]


def digit_accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> dict:
    correct = predict_digits(model, images) == labels
    return {
        "accuracy": float(correct.mean()),
        "images": len(labels),
        "per_class_accuracy": {str(d): float(correct[labels == d].mean())
                               for d in range(NUM_CLASSES) if np.any(labels == d)},
    }


# ---------------------------------------------------------------- MultiMNIST pairs

class PairBatches(keras.utils.PyDataset):
    """MultiMNIST batches made on the fly from MNIST images, in numpy (any Keras backend).

    Training: new partners and shifts every epoch, incomplete last batch dropped. Evaluation
    (`shuffle=False`): image k is the first digit of pair k; partners and shifts fixed by the seed,
    so the pairs do not depend on the batch size.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, *,
                 shuffle: bool = True, seed: int = EVALUATION_SEED):
        super().__init__()
        self.images, self.labels = np.asarray(images), np.asarray(labels, np.int32)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.pairs = draw_pairs(self.labels, self.rng, shuffle)

    def __len__(self) -> int:
        whole, rest = divmod(len(self.labels), self.batch_size)
        return whole + (rest > 0 and not self.shuffle)

    def __getitem__(self, index: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        chosen = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return overlay(self.images, self.labels, *(part[chosen] for part in self.pairs))

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.pairs = draw_pairs(self.labels, self.rng)


def pair_training_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0) -> PairBatches:
    return PairBatches(images, labels, batch_size, shuffle=True, seed=seed)


def pair_evaluation_batches(images: np.ndarray, labels: np.ndarray, batch_size: int) -> PairBatches:
    return PairBatches(images, labels, batch_size, shuffle=False, seed=EVALUATION_SEED)


def pair_accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int = 100) -> dict:
    """Pair accuracy on one pair per image (MNIST's test set: 10,000 pairs), made with the fixed
    seed; per class: of the pairs that contain that digit."""
    forward = compiled_forward(model, ["pair"], image_shape=PAIR_SHAPE)
    batches = pair_evaluation_batches(images, labels, batch_size)
    predicted, truth = [], []
    for index in range(len(batches)):
        x, y = batches[index]
        predicted.append(forward(x)["pair"])
        truth.append(y["labels"])
    predicted, truth = np.concatenate(predicted), np.concatenate(truth)
    right = keras.ops.convert_to_numpy(same_pair(predicted, truth))
    return {
        "accuracy": float(right.mean()),
        "pairs": len(right),
        "per_class_accuracy": {str(d): float(right[(truth == d).any(axis=1)].mean())
                               for d in range(NUM_CLASSES) if np.any(truth == d)},
    }


DIGITS = Task(training_batches, evaluation_batches, digit_accuracy)
PAIRS = Task(pair_training_batches, pair_evaluation_batches, pair_accuracy, title="multimnist")


def task(model_id: str) -> Task:
    """The task of a model of the registry, by what its card says it reads."""
    return PAIRS if card(model_id).test_unit == "pairs" else DIGITS
