"""What every study's command shares: the same arguments for the data, loading the checkpoints it
measures (verified), and writing its table to results/ with their sha256 and the command."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras

from datasets.mnist import load_mnist
from model.checkpoint import load_model
from studies import STUDIES, Study


def parser(study: Study, description: str | None) -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(prog=f"python -m studies.{study.name}", description=description,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    arguments.add_argument("--output", default=str(study.path), help="where the table goes")
    return arguments


def load(study: Study, **options) -> dict[str, tuple[keras.Model, dict]]:
    """Every checkpoint the study measures, verified against its metadata: {id: (model, metadata)}."""
    return {model_id: load_model(model_id, **options) for model_id in study.models}


def test_set(args: argparse.Namespace):
    """MNIST's 10,000 test digits: uint8 images, labels."""
    return load_mnist(args.data)[1]


def write(study: Study, table: dict, models: dict[str, tuple[keras.Model, dict]], output: str | Path,
          started: float | None = None) -> Path:
    """The table with what it was measured on (each model's sha256 and test accuracy) and how
    to make it again; `started` (time.time()) adds the seconds it took."""
    record = {"models": {model_id: {"sha256": metadata["sha256"], "test_accuracy": metadata.get("test_accuracy")}
                         for model_id, (_, metadata) in models.items()},
              **table, "command": study.command}
    if started is not None:
        record["seconds"] = round(time.time() - started, 1)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(record, indent=1) + "\n")
    return output


def study(name: str) -> Study:
    return STUDIES[name]
