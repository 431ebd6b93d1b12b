"""What the votes agree on, for one input: measures drawn beside the votes (the agreement per
digit, the evidence map) and the votes' projection on fixed axes (studies/votes.py fits them).
Pure numpy on the forward pass's outputs, as the server and the studies take them."""
from __future__ import annotations

import numpy as np


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


def project(vectors: np.ndarray, projection: dict) -> np.ndarray:
    """(..., 16) -> (..., 2) on a digit's two principal axes."""
    return (vectors - np.asarray(projection["mean"])) @ np.asarray(projection["components"]).T
