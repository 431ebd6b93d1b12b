"""Every MNIST test digit the shipped CapsNet gets wrong: `python -m model.mistakes [--data PATH]`.

Writes each as a 28x28 PNG in web/mistakes/ and web/mistakes/index.json with, per digit,
its index in the MNIST test set, the true label, the prediction and the ten capsule lengths,
plus the checkpoint's sha256 (the server refuses a list made from other weights).
"""
from __future__ import annotations

import argparse
import json

import numpy as np
from PIL import Image

from model.checkpoint import load_model
from model.data import load_mnist, to_model_input
from model.forward import compiled_forward, in_batches
from model.zoo import PROJECT_ROOT

MISTAKES_DIR = PROJECT_ROOT / "web" / "mistakes"
COMMAND = "python -m model.mistakes --data ../shared/data/mnist.npz"


def find_mistakes(lengths: np.ndarray, labels: np.ndarray) -> list[dict]:
    """lengths (n, 10), labels (n,) -> one entry per wrong prediction, in test-set order."""
    predictions = lengths.argmax(-1)
    return [{"index": int(i), "label": int(labels[i]), "prediction": int(predictions[i]),
             "lengths": [round(float(v), 5) for v in lengths[i]], "file": f"{int(i):05d}.png"}
            for i in np.flatnonzero(predictions != labels)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    args = parser.parse_args(argv)
    model, metadata = load_model("capsnet")
    _, (x_test, y_test) = load_mnist(args.data)
    forward = compiled_forward(model, ["lengths"], image_shape=(28, 28, 1))
    lengths = in_batches(forward, to_model_input(x_test), 200)["lengths"]
    entries = find_mistakes(lengths, y_test)
    MISTAKES_DIR.mkdir(parents=True, exist_ok=True)
    for old in MISTAKES_DIR.glob("*.png"):
        old.unlink()
    for entry in entries:
        Image.fromarray(x_test[entry["index"]].astype(np.uint8)).save(MISTAKES_DIR / entry["file"])
    accuracy = 1 - len(entries) / len(y_test)
    (MISTAKES_DIR / "index.json").write_text(json.dumps({
        "model": {"sha256": metadata["sha256"]}, "test_images": int(len(y_test)), "accuracy": accuracy,
        "command": COMMAND, "mistakes": entries}, indent=1) + "\n")
    print(f"{len(entries)} mistakes in {len(y_test)} test digits (accuracy {accuracy:.4f}) -> {MISTAKES_DIR}")


if __name__ == "__main__":
    main()
