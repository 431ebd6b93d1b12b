"""How far routing by agreement moves the votes: `python -m studies.routing_share [--data PATH]`.

Routing starts with every primary capsule splitting its vote evenly (c_ij = 1/10) and is said to
shift it towards the digit the capsule's part belongs to; with two overlapping digits, to pull the
parts of each apart. Measured here: per iteration, the share of the primary capsules' votes that
goes to each digit capsule, each capsule weighted by its length |u_i| (a short one says little),
over the whole image or per position of the primary-capsule grid (model/routing_share.py); and,
over the test set, the share that reaches the true digit(s) against the uniform start, for the
MNIST CapsNet and the MultiMNIST one. Writes results/routing_share.json.
"""
from __future__ import annotations

import time

import numpy as np

from model.forward import compiled_forward
from model.multimnist import longest
from model.registry import card
from model.routing_share import coupling_shares
from model.spec import ROUTING_ITERATIONS
from studies import cli
from training.tasks import task

STUDY = cli.study("routing_share")


def true_digits(y) -> np.ndarray:
    """A batch's targets -> (n, k) digits: MNIST's labels (k = 1) or MultiMNIST's pairs (k = 2)."""
    labels = np.asarray(y["labels"] if isinstance(y, dict) else y)
    return labels.reshape(len(labels), -1)


def routing_report(model, images: np.ndarray, labels: np.ndarray, batches_of) -> dict:
    """Per routing iteration, over a task's test examples (`batches_of`: its evaluation_batches):
    the mean share of the votes that reaches the true digit(s), the mean |c_ij - 1/digits| over
    all capsules and digits, and the accuracy had routing stopped there (the longest capsule, or
    for pairs the two longest, against the true digits)."""
    batches = batches_of(images, labels, 100)
    keys = ("routing_coupling", "primary_caps_lengths", "routing_lengths")
    forward, to_true, moved, right, count = None, 0.0, 0.0, 0.0, 0
    for index in range(len(batches)):
        x, y = batches[index]  # each batch is made (pairs overlaid) once
        forward = forward or compiled_forward(model, keys, x.shape[1:])
        out = forward(x)
        coupling = out["routing_coupling"]  # (n, iterations, capsules, digits)
        shares = coupling_shares(coupling, out["primary_caps_lengths"][:, None, :])  # (n, it, digits)
        digits = true_digits(y)
        to_true += np.take_along_axis(shares, digits[:, None, :], axis=-1).sum(-1).sum(0)
        moved += np.abs(coupling - 1.0 / coupling.shape[-1]).mean(axis=(2, 3)).sum(0)
        answer = longest(out["routing_lengths"], digits.shape[1])
        right += (answer == np.sort(digits, axis=-1)[:, None, :]).all(-1).sum(0)
        count += len(x)
    return {"examples": count, "true_digits": digits.shape[1], "uniform": digits.shape[1] / coupling.shape[-1],
            "share_to_true": (to_true / count).tolist(), "mean_shift": (moved / count).tolist(),
            "accuracy": (right / count).tolist()}


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser(STUDY, __doc__)
    parser.add_argument("--count", type=int, default=10000, help="how many test images (pairs) to measure")
    parser.add_argument("--routing-iterations", type=int, default=ROUTING_ITERATIONS)
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    started = time.time()
    models = cli.load(STUDY, routing_iterations=args.routing_iterations)
    x_test, y_test = cli.test_set(args)
    table = {}
    for model_id, (model, _) in models.items():
        report = routing_report(model, x_test[:args.count], y_test[:args.count], task(model_id).evaluation_batches)
        table[model_id] = report
        unit = card(model_id).test_unit
        print(f"{model_id}, {report['examples']} test {unit}:")
        for iteration, (share, shift, accuracy) in enumerate(
                zip(report["share_to_true"], report["mean_shift"], report["accuracy"]), 1):
            print(f"  iteration {iteration}: votes to the true digit(s) {share:.5f} (uniform {report['uniform']:.5f}); "
                  f"mean |c_ij - 1/10| {shift:.5f}; accuracy {accuracy:.4f}")
    output = cli.write(STUDY, {"routing_iterations": args.routing_iterations, "by_model": table}, models, args.output, started)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
