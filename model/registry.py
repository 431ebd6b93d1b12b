"""The models the project trains and serves, by name: each a card saying how to build it,
where its checkpoint lives and how to re-make it. Training, evaluation, the studies, serving and
the browser export take a model name and find the rest here; nothing about one model is
hard-coded into another's paths.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras

from model.capsnet import build_capsnet
from model.cnn import build_cnn
from model.multimnist import build_multimnist

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = PROJECT_ROOT / "checkpoints"


@dataclass(frozen=True)
class ModelCard:
    id: str
    name: str
    build: Callable[..., keras.Model]  # build(routing_iterations=..., conv_dtype=None) -> built model
    epochs: int  # the default length of a training run
    test_unit: str = "images"  # what its test accuracy counts: MNIST digits, or MultiMNIST's "pairs"

    @property
    def checkpoint(self) -> Path:
        return CHECKPOINTS / f"{self.id}.weights.h5"

    @property
    def train_command(self) -> str:
        """MNIST from $CAPSNET_MNIST, or --data PATH, or Keras' download (datasets/mnist.py)."""
        return f"python -m training.train --model {self.id} --epochs {self.epochs}"


MODELS: dict[str, ModelCard] = {
    "capsnet": ModelCard("capsnet", "CapsNet (Sabour, Frosst & Hinton, 2017)", build_capsnet, 50),
    "cnn": ModelCard("cnn", "Baseline CNN with max pooling (the control)", build_cnn, 15),
    "multimnist": ModelCard("multimnist", "CapsNet on MultiMNIST (two overlapping digits, 36x36)",
                            build_multimnist, 30, test_unit="pairs"),
}


def card(model_id: str) -> ModelCard:
    if model_id not in MODELS:
        raise ValueError(f"unknown model {model_id!r}: choose one of {', '.join(MODELS)}.")
    return MODELS[model_id]
