"""Test accuracy of a checkpoint: `python -m model.evaluate [--data PATH] [--checkpoint PATH]`."""
from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

from model.capsnet import CapsNet
from model.checkpoint import DEFAULT_CHECKPOINT, load_capsnet
from model.data import evaluation_dataset, load_mnist


def predict_digits(model: CapsNet, images: np.ndarray, labels: np.ndarray,
                   batch_size: int = 100) -> np.ndarray:
    """The predicted digit of every image; only the lengths are computed, not the decoder's output."""
    predict = tf.function(lambda x: model(x)["prediction"], reduce_retracing=True)
    return np.concatenate([predict(x).numpy()
                           for x, _ in evaluation_dataset(images, labels, batch_size)])


def accuracy_report(model: CapsNet, images: np.ndarray, labels: np.ndarray) -> dict:
    predicted = predict_digits(model, images, labels)
    correct = predicted == labels
    return {
        "accuracy": float(correct.mean()),
        "images": int(len(labels)),
        "per_class_accuracy": {str(d): float(correct[labels == d].mean())
                               for d in range(10) if np.any(labels == d)},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--routing-iterations", type=int, default=3)
    args = parser.parse_args(argv)
    model, metadata = load_capsnet(args.checkpoint, args.routing_iterations)
    _, (x_test, y_test) = load_mnist(args.data)
    report = accuracy_report(model, x_test, y_test)
    print(f"checkpoint: {args.checkpoint} (epochs: {metadata.get('epochs', '?')})")
    for digit, accuracy in report["per_class_accuracy"].items():
        print(f"  digit {digit}: {accuracy:.4f}")
    print(f"test accuracy: {report['accuracy']:.4f} on {report['images']} images")


if __name__ == "__main__":
    main()
