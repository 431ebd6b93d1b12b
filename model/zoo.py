"""The models the project trains and serves, by name: each a card saying how to build it,
where its checkpoint lives and how to re-make it. Training, evaluation and serving take a
model name and find the rest here; nothing about one model is hard-coded into another's paths.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = PROJECT_ROOT / "checkpoints"


@dataclass(frozen=True)
class Task:
    """What a model learns from and is measured on. train.py and evaluate.py call these with
    MNIST's arrays (uint8 images, labels); a task turns them into its own examples."""
    training_batches: Callable[..., keras.utils.PyDataset]  # (images, labels, batch_size, seed)
    evaluation_batches: Callable[..., keras.utils.PyDataset]  # (images, labels, batch_size)
    accuracy_report: Callable[..., dict]  # (model, images, labels) -> accuracy, count, per class
    unit: str = "images"  # what the report counts (its key, and the metadata's "test_<unit>")
    title: str = "test"  # evaluate's last line: "<title> accuracy: 0.XXXX on N <unit>"


def _mnist() -> Task:
    from model.data import evaluation_batches, training_batches
    from model.evaluate import accuracy_report
    return Task(training_batches, evaluation_batches, accuracy_report)


def _multimnist() -> Task:
    from model import multimnist
    return Task(multimnist.training_batches, multimnist.evaluation_batches,
                multimnist.accuracy_report, unit="pairs", title="multimnist")


@dataclass(frozen=True)
class ModelCard:
    id: str
    name: str
    build: Callable[..., keras.Model]  # build(conv_dtype=None, routing_iterations=3) -> built model
    epochs: int  # the default length of a training run
    task: Callable[[], Task] = _mnist  # imported when asked for: the zoo stays free of training code

    @property
    def checkpoint(self) -> Path:
        return CHECKPOINTS / f"{self.id}.weights.h5"

    @property
    def train_command(self) -> str:
        return (f"python -m model.train --model {self.id} --data ../shared/data/mnist.npz "
                f"--epochs {self.epochs}")


def _build_capsnet(**options) -> keras.Model:
    from model.capsnet import build_capsnet
    return build_capsnet(options.get("routing_iterations", 3), options.get("conv_dtype"))


def _build_cnn(**options) -> keras.Model:
    from model.cnn import build_cnn
    return build_cnn(options.get("conv_dtype"))


def _build_multimnist(**options) -> keras.Model:
    from model.multimnist import build_multimnist
    return build_multimnist(options.get("routing_iterations", 3), options.get("conv_dtype"))


MODELS: dict[str, ModelCard] = {
    "capsnet": ModelCard("capsnet", "CapsNet (Sabour, Frosst & Hinton, 2017)", _build_capsnet, 50),
    "cnn": ModelCard("cnn", "Baseline CNN with max pooling (the control)", _build_cnn, 15),
    "multimnist": ModelCard("multimnist", "CapsNet on MultiMNIST (two overlapping digits, 36x36)",
                            _build_multimnist, 30, _multimnist),
}


def card(model_id: str) -> ModelCard:
    if model_id not in MODELS:
        raise ValueError(f"unknown model {model_id!r}: choose one of {', '.join(MODELS)}.")
    return MODELS[model_id]
