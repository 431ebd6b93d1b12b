"""Which input pixels a unit sees, from the layers' kernel sizes and strides (read from the
model, never typed in): the page outlines them, the evidence map spreads votes over them."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def receptive_field(layers: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """(size, stride) in input pixels of one unit after `layers`, each (kernel_size, stride),
    no padding: size grows by (kernel - 1) x the input stride so far."""
    size, stride = 1, 1
    for kernel, step in layers:
        size += (kernel - 1) * stride
        stride *= step
    return size, stride


def capsnet_layers(model) -> list[tuple[int, int]]:
    """Conv1 and PrimaryCaps of a CapsNet as (kernel_size, stride) pairs."""
    return [(model.conv1.kernel_size[0], model.conv1.strides[0]),
            (model.primary_caps.kernel_size, model.primary_caps.strides)]


def spread_over_fields(per_position: np.ndarray, size: int, stride: int, image_side: int) -> np.ndarray:
    """(rows, cols) values, one per unit -> (image_side, image_side): each pixel the sum of the
    values of the units whose receptive field covers it."""
    out = np.zeros((image_side, image_side), np.float64)
    rows, cols = per_position.shape
    for r in range(rows):
        for c in range(cols):
            out[r * stride:r * stride + size, c * stride:c * stride + size] += per_position[r, c]
    return out
