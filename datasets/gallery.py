"""Write the page's gallery: `python -m datasets.gallery [--data PATH] [--per-class 4]`.

The first test images of each class, as 28x28 PNGs in web/gallery/ with an index.json;
the tests use them too, so they never need the full data set.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from datasets.mnist import load_mnist
from model.checkpoint import PROJECT_ROOT

GALLERY_DIR = PROJECT_ROOT / "web" / "gallery"


def write_gallery(images: np.ndarray, labels: np.ndarray, per_class: int,
                  directory: Path = GALLERY_DIR) -> list[dict]:
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for digit in range(10):
        for index in np.flatnonzero(labels == digit)[:per_class]:
            name = f"{digit}_{index:04d}.png"
            Image.fromarray(images[index].astype(np.uint8)).save(directory / name)
            entries.append({"file": name, "label": digit, "test_index": int(index)})
    (directory / "index.json").write_text(json.dumps(entries, indent=1) + "\n")
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--per-class", type=int, default=4)
    args = parser.parse_args(argv)
    _, (x_test, y_test) = load_mnist(args.data)
    entries = write_gallery(x_test, y_test, args.per_class)
    print(f"wrote {len(entries)} digits to {GALLERY_DIR}")


if __name__ == "__main__":
    main()
