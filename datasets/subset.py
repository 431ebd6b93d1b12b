"""Write the tests' MNIST sample: `python -m datasets.subset [--data PATH]`.

The first 200 test images of each digit (in MNIST's test order), 2,000 in all, compressed in
tests/data/mnist_test_2000.npz: enough for a test to measure the shipped checkpoints'
accuracy without the full data set.
"""
from __future__ import annotations

import argparse

import numpy as np

from datasets.mnist import load_mnist
from model.registry import PROJECT_ROOT

SUBSET = PROJECT_ROOT / "tests" / "data" / "mnist_test_2000.npz"


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first `per_class` images of each digit, in the data set's order."""
    chosen = [np.flatnonzero(labels == digit)[:per_class] for digit in range(10)]
    return np.sort(np.concatenate(chosen))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--per-class", type=int, default=200)
    args = parser.parse_args(argv)
    _, (x_test, y_test) = load_mnist(args.data)
    index = first_per_class(y_test, args.per_class)
    SUBSET.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(SUBSET, x_test=x_test[index], y_test=y_test[index], test_index=index.astype(np.int16))
    print(f"wrote {len(index)} test digits to {SUBSET} ({SUBSET.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
