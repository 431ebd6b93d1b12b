"""How far routing by agreement moves the votes: `python -m model.routing_share [--model capsnet|multimnist]`.

Routing starts with every primary capsule splitting its vote evenly (c_ij = 1/10) and is said to
shift it towards the digit the capsule's part belongs to; with two overlapping digits, to pull the
parts of each apart. Measured here: per iteration, the share of the primary capsules' votes that
goes to each digit capsule, each capsule weighted by its length |u_i| (a short one says little),
over the whole image or per position of the primary-capsule grid; and, over the test set, the
share that reaches the true digit(s) against the uniform start.
"""
from __future__ import annotations

import argparse

import numpy as np

from model.checkpoint import load_model
from model.data import load_mnist
from model.zoo import MODELS

Grid = tuple[int, int, int]  # how the model orders its primary capsules: (rows, cols, types)


def coupling_shares(coupling: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """coupling (..., capsules, digits), weights |u_i| (..., capsules) -> (..., digits):
    sum_i |u_i| c_ij / sum_i |u_i|. Sums to 1 over the digits, like each capsule's couplings."""
    coupling, weights = np.asarray(coupling, np.float64), np.asarray(weights, np.float64)
    total = weights.sum(-1)[..., None]
    weighted = np.einsum("...ij,...i->...j", coupling, weights)
    plain = coupling.mean(-2)  # no length anywhere: every capsule alike
    return np.where(total > 0, weighted / np.where(total > 0, total, 1.0), plain)


def position_shares(coupling: np.ndarray, weights: np.ndarray, grid: Grid) -> np.ndarray:
    """One image's coupling (capsules, digits) and |u_i| (capsules,) -> (rows, cols, digits):
    the shares of the capsules of all types at each grid position."""
    rows, cols, types = grid
    return coupling_shares(np.asarray(coupling).reshape(rows, cols, types, -1),
                           np.asarray(weights).reshape(rows, cols, types))


def true_digits(y) -> np.ndarray:
    """A batch's targets -> (n, k) digits: MNIST's labels (k = 1) or MultiMNIST's pairs (k = 2)."""
    labels = np.asarray(y["labels"] if isinstance(y, dict) else y)
    return labels.reshape(len(labels), -1)


def routing_report(model, images: np.ndarray, labels: np.ndarray, task) -> dict:
    """Per routing iteration, over the task's test examples: the mean share of the votes that
    reaches the true digit(s), and the mean |c_ij - 1/digits| over all capsules and digits."""
    from model.forward import compiled_forward
    batches = task.evaluation_batches(images, labels, 100)
    forward, to_true, moved, count = None, 0.0, 0.0, 0
    for index in range(len(batches)):
        x, y = batches[index]  # each batch is made (pairs overlaid) once
        forward = forward or compiled_forward(model, ("routing_coupling", "primary_caps_lengths"), x.shape[1:])
        out = forward(x)
        coupling = out["routing_coupling"]  # (n, iterations, capsules, digits)
        shares = coupling_shares(coupling, out["primary_caps_lengths"][:, None, :])  # (n, it, digits)
        digits = true_digits(y)
        to_true += np.take_along_axis(shares, digits[:, None, :], axis=-1).sum(-1).sum(0)
        moved += np.abs(coupling - 1.0 / coupling.shape[-1]).mean(axis=(2, 3)).sum(0)
        count += len(x)
    return {"examples": count, "true_digits": digits.shape[1], "uniform": digits.shape[1] / coupling.shape[-1],
            "share_to_true": (to_true / count).tolist(), "mean_shift": (moved / count).tolist()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="multimnist", choices=[m for m in MODELS if m != "cnn"])
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--checkpoint", help="weights file (default: checkpoints/<model>.weights.h5)")
    parser.add_argument("--count", type=int, default=10000, help="how many test images (pairs) to measure")
    parser.add_argument("--routing-iterations", type=int, default=3)
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    model, metadata = load_model(args.model, args.checkpoint, routing_iterations=args.routing_iterations)
    _, (x_test, y_test) = load_mnist(args.data)
    task = MODELS[args.model].task()
    report = routing_report(model, x_test[:args.count], y_test[:args.count], task)
    print(f"checkpoint: {args.checkpoint or MODELS[args.model].checkpoint} "
          f"(epochs: {metadata.get('epochs', '?')}, sha256 {metadata.get('sha256', '?')[:12]})")
    for iteration, (share, shift) in enumerate(zip(report["share_to_true"], report["mean_shift"]), 1):
        print(f"  iteration {iteration}: votes to the true digit(s) {share:.5f} "
              f"(uniform {report['uniform']:.5f}); mean |c_ij - 1/10| {shift:.5f}")
    print(f"routing share to the true digit(s): {report['share_to_true'][0]:.4f} -> "
          f"{report['share_to_true'][-1]:.4f} on {report['examples']} {task.unit}")


if __name__ == "__main__":
    main()
