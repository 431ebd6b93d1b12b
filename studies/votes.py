"""The votes that routing agrees on, in 2-D: `python -m studies.votes [--data PATH]`.

For each digit capsule j, a PCA of its prediction vectors u_hat_{j|i} (16-D) over the first
500 MNIST test digits: one fixed projection per digit, so that dots keep their meaning from
one input to the next (model/agreement.py's `project`). Writes results/votes_pca.json.
"""
from __future__ import annotations

import time

import keras
import numpy as np

from datasets.mnist import to_model_input
from model.forward import compiled_forward
from model.spec import IMAGE_SHAPE
from studies import cli

STUDY = cli.study("votes")


def fit_projections(prediction_vectors: np.ndarray) -> list[dict]:
    """(n, 1152, 10, 16) -> per digit j: the mean and the top two principal axes of its votes."""
    projections = []
    for digit in range(prediction_vectors.shape[2]):
        votes = prediction_vectors[:, :, digit].reshape(-1, prediction_vectors.shape[-1]).astype(np.float64)
        mean = votes.mean(0)
        _, singular, axes = np.linalg.svd(votes - mean, full_matrices=False)
        variance = singular ** 2 / (singular ** 2).sum()
        projections.append({"digit": digit, "mean": mean.tolist(), "components": axes[:2].tolist(),
                            "explained_variance_ratio": variance[:2].tolist()})
    return projections


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser(STUDY, __doc__)
    parser.add_argument("--images", type=int, default=500, help="the first N test digits")
    args = parser.parse_args(argv)
    started = time.time()
    models = cli.load(STUDY)
    x_test, _ = cli.test_set(args)
    forward = compiled_forward(models["capsnet"][0], ["prediction_vectors"], image_shape=IMAGE_SHAPE)
    images = to_model_input(x_test[:args.images])
    progress = keras.utils.Progbar(len(images), unit_name="digit")
    parts = []
    for start in range(0, len(images), 100):
        parts.append(forward(images[start:start + 100])["prediction_vectors"])
        progress.add(len(parts[-1]))
    votes = np.concatenate(parts)
    table = {"images": len(images), "method": "PCA",
             "description": f"for each digit capsule j, the two principal axes of u_hat_j|i over the "
                            f"{votes.shape[1]} primary capsules of the first {len(images)} MNIST test digits",
             "projections": fit_projections(votes)}
    output = cli.write(STUDY, table, models, args.output, started)
    shares = [sum(p["explained_variance_ratio"]) for p in table["projections"]]
    print(f"variance kept by two axes: {min(shares):.2f} to {max(shares):.2f}; wrote {output}")


if __name__ == "__main__":
    main()
