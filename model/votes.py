"""The votes that routing agrees on, in 2-D: `python -m model.votes [--data PATH]`.

For each digit capsule j, a PCA of its prediction vectors u_hat_{j|i} (16-D) over the first
500 MNIST test digits: one fixed projection per digit, so that dots keep their meaning from
one input to the next. Writes checkpoints/votes_pca.json with the CapsNet's sha256.
Also the per-input measures drawn beside the votes: the agreement score and the evidence map.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras
import numpy as np

from model.checkpoint import load_model
from model.data import load_mnist, to_model_input
from model.forward import compiled_forward
from model.zoo import CHECKPOINTS

OUTPUT = CHECKPOINTS / "votes_pca.json"
COMMAND = "python -m model.votes --data ../shared/data/mnist.npz"


def agreement(prediction_vectors: np.ndarray, coupling: np.ndarray, digit_caps: np.ndarray) -> np.ndarray:
    """Per digit j: the mean cosine between the votes u_hat_{j|i} and v_j, each vote weighted by
    c_ij |u_hat_{j|i}| (its say in s_j). 1: every vote points where v_j does; 0: no agreement.
    prediction_vectors (1152, 10, 16), coupling (1152, 10), digit_caps (10, 16) -> (10,)."""
    vote_lengths = np.linalg.norm(prediction_vectors, axis=-1)  # (1152, 10)
    v_lengths = np.linalg.norm(digit_caps, axis=-1)  # (10,)
    dots = np.einsum("ijd,jd->ij", prediction_vectors, digit_caps)
    cosine = dots / np.maximum(vote_lengths * v_lengths, 1e-12)
    weights = coupling * vote_lengths
    return (weights * cosine).sum(0) / np.maximum(weights.sum(0), 1e-12)


def evidence(prediction_vectors: np.ndarray, coupling: np.ndarray, digit_caps: np.ndarray,
             digit: int, grid: tuple[int, int, int]) -> np.ndarray:
    """Each primary capsule's contribution to v_j: c_ij times the component of u_hat_{j|i}
    along v_j, summed per position over the capsule types -> (rows, cols) of the grid."""
    direction = digit_caps[digit] / max(np.linalg.norm(digit_caps[digit]), 1e-12)
    along = prediction_vectors[:, digit] @ direction  # (1152,)
    rows, cols, types = grid
    return (coupling[:, digit] * along).reshape(rows, cols, types).sum(-1)


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


def project(vectors: np.ndarray, projection: dict) -> np.ndarray:
    """(..., 16) -> (..., 2) on a digit's two principal axes."""
    return (vectors - np.asarray(projection["mean"])) @ np.asarray(projection["components"]).T


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--images", type=int, default=500, help="the first N test digits")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    model, metadata = load_model("capsnet")
    _, (x_test, _) = load_mnist(args.data)
    forward = compiled_forward(model, ["prediction_vectors"], image_shape=(28, 28, 1))
    images = to_model_input(x_test[:args.images])
    progress = keras.utils.Progbar(len(images), unit_name="digit")
    parts = []
    for start in range(0, len(images), 100):
        parts.append(forward(images[start:start + 100])["prediction_vectors"])
        progress.add(len(parts[-1]))
    table = {"model": {"sha256": metadata["sha256"]}, "images": len(images), "method": "PCA",
             "description": f"for each digit capsule j, the two principal axes of u_hat_j|i over the "
                            f"1152 primary capsules of the first {len(images)} MNIST test digits",
             "projections": fit_projections(np.concatenate(parts)), "command": COMMAND}
    Path(args.output).write_text(json.dumps(table, indent=1) + "\n")
    shares = [sum(p["explained_variance_ratio"]) for p in table["projections"]]
    print(f"variance kept by two axes: {min(shares):.2f} to {max(shares):.2f}; wrote {args.output}")


if __name__ == "__main__":
    main()
