"""The trained weights in checkpoints/ and the JSON of metadata beside them."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from model.capsnet import CapsNet, build_capsnet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECKPOINT = PROJECT_ROOT / "checkpoints" / "capsnet.weights.h5"
TRAIN_COMMAND = "python -m model.train --data ../shared/data/mnist.npz --epochs 50"


class CheckpointError(RuntimeError):
    """The checkpoint is missing or unreadable; the message says how to make one."""


def metadata_path(weights_path: str | os.PathLike) -> Path:
    return Path(str(weights_path).removesuffix(".weights.h5") + ".json")


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_metadata(weights_path: str | os.PathLike) -> dict:
    path = metadata_path(weights_path)
    return json.loads(path.read_text()) if path.exists() else {}


def load_capsnet(weights_path: str | os.PathLike = DEFAULT_CHECKPOINT,
                 routing_iterations: int = 3) -> tuple[CapsNet, dict]:
    """Build the network and load trained weights: no optimizer or training code needed."""
    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise CheckpointError(f"No checkpoint at {weights_path}. Train one with: {TRAIN_COMMAND}")
    model = build_capsnet(routing_iterations)
    try:
        model.load_weights(weights_path)
    except Exception as error:  # h5py and Keras raise many kinds for a damaged file
        raise CheckpointError(
            f"Checkpoint {weights_path} could not be loaded ({error}). "
            f"Restore it with `git checkout -- {weights_path.name}` or train one with: {TRAIN_COMMAND}"
        ) from error
    return model, read_metadata(weights_path)


def serving_copy(model: CapsNet) -> CapsNet:
    """The same weights in a float32 model with no optimizer: what is exported and served."""
    clean = build_capsnet(model.routing_iterations)
    clean.set_weights([np.asarray(w, np.float32) for w in model.get_weights()])
    return clean


def export_weights(model: CapsNet, weights_path: str | os.PathLike, metadata: dict) -> dict:
    """Save float32 weights without optimizer state, plus metadata with their sha256."""
    weights_path = Path(weights_path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = weights_path.with_name(weights_path.name + ".tmp.weights.h5")
    serving_copy(model).save_weights(temporary)
    os.replace(temporary, weights_path)  # a reader never sees a half-written file
    metadata = {**metadata, "weights_file": weights_path.name, "sha256": sha256_of(weights_path)}
    metadata_path(weights_path).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata
