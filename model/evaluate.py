"""Test accuracy of a checkpoint: `python -m model.evaluate [--model capsnet|cnn|multimnist] [--data PATH]`.

Its last line is `test accuracy: 0.XXXX on N images` (MultiMNIST: `multimnist accuracy: 0.XXXX on N pairs`).
"""
from __future__ import annotations

import argparse

import keras
import numpy as np

from model.checkpoint import load_model
from model.data import load_mnist, to_model_input
from model.forward import compiled_forward, in_batches
from model.zoo import MODELS


def predict_digits(model: keras.Model, images: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """The predicted digit of every uint8 (n, 28, 28) image."""
    forward = compiled_forward(model, ["prediction"], image_shape=(*images.shape[1:], 1))
    return in_batches(forward, to_model_input(images), batch_size)["prediction"]


def accuracy_report(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> dict:
    predicted = predict_digits(model, images)
    correct = predicted == labels
    return {
        "accuracy": float(correct.mean()),
        "images": int(len(labels)),
        "per_class_accuracy": {str(d): float(correct[labels == d].mean())
                               for d in range(10) if np.any(labels == d)},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="capsnet", choices=list(MODELS))
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--checkpoint", help="weights file (default: checkpoints/<model>.weights.h5)")
    parser.add_argument("--routing-iterations", type=int, default=3, help="CapsNet only")
    args = parser.parse_args(argv)
    model, metadata = load_model(args.model, args.checkpoint, routing_iterations=args.routing_iterations)
    _, (x_test, y_test) = load_mnist(args.data)
    task = MODELS[args.model].task()
    report = task.accuracy_report(model, x_test, y_test)
    print(f"checkpoint: {args.checkpoint or MODELS[args.model].checkpoint} "
          f"(epochs: {metadata.get('epochs', '?')}, sha256 {metadata.get('sha256', '?')[:12]})")
    for digit, accuracy in report["per_class_accuracy"].items():
        print(f"  digit {digit}: {accuracy:.4f}")
    print(f"{task.title} accuracy: {report['accuracy']:.4f} on {report[task.unit]} {task.unit}")


if __name__ == "__main__":
    main()
