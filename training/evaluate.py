"""Test accuracy of a checkpoint: `python -m training.evaluate [--model capsnet|cnn|multimnist] [--data PATH]`.

Its last line is `test accuracy: 0.XXXX on N images` (MultiMNIST: `multimnist accuracy: 0.XXXX on N pairs`).
"""
from __future__ import annotations

import argparse

from datasets.mnist import load_mnist
from model.checkpoint import load_model
from model.registry import MODELS
from model.spec import ROUTING_ITERATIONS
from training.tasks import task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="capsnet", choices=list(MODELS))
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--checkpoint", help="weights file (default: checkpoints/<model>.weights.h5)")
    parser.add_argument("--routing-iterations", type=int, default=ROUTING_ITERATIONS, help="CapsNets only")
    args = parser.parse_args(argv)
    model, metadata = load_model(args.model, args.checkpoint, routing_iterations=args.routing_iterations)
    _, (x_test, y_test) = load_mnist(args.data)
    measured, unit = task(args.model), MODELS[args.model].test_unit
    report = measured.accuracy_report(model, x_test, y_test)
    print(f"checkpoint: {args.checkpoint or MODELS[args.model].checkpoint} "
          f"(epochs: {metadata.get('epochs', '?')}, sha256 {metadata.get('sha256', '?')[:12]})")
    for digit, accuracy in report["per_class_accuracy"].items():
        print(f"  digit {digit}: {accuracy:.4f}")
    print(f"{measured.title} accuracy: {report['accuracy']:.4f} on {report[unit]} {unit}")


if __name__ == "__main__":
    main()
