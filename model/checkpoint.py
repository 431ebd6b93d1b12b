"""The trained weights in checkpoints/ and the JSON of metadata (the model's card) beside them.

Loading verifies the weights against the sha256 their metadata recorded at export, so that a
damaged or swapped file is refused instead of served, and results computed from a checkpoint
(robustness tables, mistakes) can name exactly which weights they came from.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import keras
import numpy as np

from model.registry import CHECKPOINTS, PROJECT_ROOT, card
from model.spec import ROUTING_ITERATIONS

DEFAULT_CHECKPOINT = CHECKPOINTS / "capsnet.weights.h5"
TRAIN_COMMAND = card("capsnet").train_command

__all__ = [
    "DEFAULT_CHECKPOINT",
    "PROJECT_ROOT",
    "CheckpointError",
    "export_weights",
    "load_capsnet",
    "load_model",
    "read_metadata",
    "serving_copy",
    "sha256_of",
    "verify_checkpoint",
]


class CheckpointError(RuntimeError):
    """The checkpoint is missing, unreadable or not the one its metadata describes; the message
    says how to make one."""


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


def verify_checkpoint(weights_path: str | os.PathLike, model_id: str = "capsnet") -> dict:
    """The metadata of `weights_path`, once its sha256 matches the one recorded at export."""
    weights_path = Path(weights_path)
    command = card(model_id).train_command
    if not weights_path.is_file():
        raise CheckpointError(f"No checkpoint at {weights_path}. Train one with: {command}")
    metadata = read_metadata(weights_path)
    actual = sha256_of(weights_path)
    expected = metadata.get("sha256")
    if expected is None:
        raise CheckpointError(
            f"Checkpoint {weights_path} has no metadata with a sha256 ({metadata_path(weights_path)}); "
            f"its sha256 is {actual}. Re-export it with: {command}")
    if expected != actual:
        raise CheckpointError(
            f"Checkpoint {weights_path} does not match its metadata: sha256 {actual}, expected "
            f"{expected} ({metadata_path(weights_path).name}). Restore both with "
            f"`git checkout -- checkpoints/` or re-export with: {command}")
    return metadata


def load_model(model_id: str = "capsnet", weights_path: str | os.PathLike | None = None,
               verify: bool = True, **options) -> tuple[keras.Model, dict]:
    """Build a model of the zoo and load trained weights (verified against their metadata)."""
    weights_path = Path(weights_path or card(model_id).checkpoint)
    if verify:
        metadata = verify_checkpoint(weights_path, model_id)
    elif not weights_path.is_file():
        raise CheckpointError(f"No checkpoint at {weights_path}. Train one with: {card(model_id).train_command}")
    else:
        metadata = read_metadata(weights_path)
    model = card(model_id).build(**options)
    try:
        model.load_weights(weights_path)
    except Exception as error:  # h5py and Keras raise many kinds for a damaged file
        raise CheckpointError(
            f"Checkpoint {weights_path} could not be loaded ({error}). Restore the committed one with "
            f"`git checkout -- {card(model_id).checkpoint.relative_to(PROJECT_ROOT)}` or train one with: "
            f"{card(model_id).train_command}"
        ) from error
    return model, metadata


def load_capsnet(weights_path: str | os.PathLike = DEFAULT_CHECKPOINT, routing_iterations: int = ROUTING_ITERATIONS,
                 verify: bool = True) -> tuple[keras.Model, dict]:
    return load_model("capsnet", weights_path, verify=verify, routing_iterations=routing_iterations)


def serving_copy(model: keras.Model) -> keras.Model:
    """The same weights in a float32 model with no optimizer: what is exported and served."""
    clean = card(model.name).build(routing_iterations=getattr(model, "routing_iterations", ROUTING_ITERATIONS))
    clean.set_weights([np.asarray(w, np.float32) for w in model.get_weights()])
    return clean


def export_weights(model: keras.Model, weights_path: str | os.PathLike, metadata: dict) -> dict:
    """Save float32 weights without optimizer state, plus metadata with their sha256."""
    weights_path = Path(weights_path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = weights_path.with_name(weights_path.name + ".tmp.weights.h5")
    serving_copy(model).save_weights(temporary)
    os.replace(temporary, weights_path)  # a reader never sees a half-written file
    metadata = {**metadata, "weights_file": weights_path.name, "sha256": sha256_of(weights_path)}
    metadata_path(weights_path).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata
