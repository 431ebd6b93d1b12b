"""Every MNIST test digit the shipped CapsNet gets wrong: `python -m studies.mistakes [--data PATH]`.

Writes results/mistakes.json with, per digit, its index in the MNIST test set, the true label,
the prediction and the ten capsule lengths, and each digit as a 28x28 PNG in results/mistakes/.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from datasets.mnist import to_model_input
from model.forward import compiled_forward, in_batches
from model.spec import IMAGE_SHAPE
from studies import cli

STUDY = cli.study("mistakes")


def images_folder(table: str | Path) -> Path:
    """Where the mistakes' PNGs go: beside the table, in a folder of its name (results/mistakes/)."""
    return Path(table).with_suffix("")


def find_mistakes(lengths: np.ndarray, labels: np.ndarray) -> list[dict]:
    """lengths (n, 10), labels (n,) -> one entry per wrong prediction, in test-set order."""
    predictions = lengths.argmax(-1)
    return [{"index": int(i), "label": int(labels[i]), "prediction": int(predictions[i]),
             "lengths": [round(float(v), 5) for v in lengths[i]], "file": f"{int(i):05d}.png"}
            for i in np.flatnonzero(predictions != labels)]


def main(argv: list[str] | None = None) -> None:
    args = cli.parser(STUDY, __doc__).parse_args(argv)
    started = time.time()
    models = cli.load(STUDY)
    x_test, y_test = cli.test_set(args)
    forward = compiled_forward(models["capsnet"][0], ["lengths"], image_shape=IMAGE_SHAPE)
    lengths = in_batches(forward, to_model_input(x_test), 200)["lengths"]
    entries = find_mistakes(lengths, y_test)
    folder = images_folder(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for entry in entries:
        Image.fromarray(x_test[entry["index"]].astype(np.uint8)).save(folder / entry["file"])
    accuracy = 1 - len(entries) / len(y_test)
    output = cli.write(STUDY, {"test_images": len(y_test), "accuracy": accuracy, "mistakes": entries},
                       models, args.output, started)
    print(f"{len(entries)} mistakes in {len(y_test)} test digits (accuracy {accuracy:.4f}) -> {output}, {folder}")


if __name__ == "__main__":
    main()
