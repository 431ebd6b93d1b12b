"""How routing by agreement shares each primary capsule's vote among the digit capsules, for one
input or a batch: each digit's share of the votes, every capsule weighted by its length |u_i|
(a short one says little), over the whole image or per position of the primary-capsule grid.
Pure numpy on the forward pass's couplings; the server (the pair answer) and studies/routing_share.py
take it from here."""
from __future__ import annotations

import numpy as np

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
