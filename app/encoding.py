"""How arrays travel as JSON: small ones as lists, large ones as base64 uint8 with a scale."""
from __future__ import annotations

import base64

import numpy as np

DECIMALS = 5  # float32 carries ~7 digits; 5 keep the numbers exact enough and the JSON short


def as_list(array) -> list | float:
    return np.round(np.asarray(array, dtype=np.float64), DECIMALS).tolist()


def quantize(array) -> dict:
    """value = min + (max - min) * byte / 255: a 256x20x20 map is 137 KB instead of 2.1 MB."""
    array = np.asarray(array, dtype=np.float32)
    low, high = float(array.min()), float(array.max())
    span = high - low
    scaled = np.zeros(array.shape) if span == 0 else (array - low) / span * 255.0
    data = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return {"encoding": "uint8", "shape": list(array.shape), "min": low, "max": high,
            "data": base64.b64encode(data.tobytes()).decode("ascii")}


def dequantize(encoded: dict) -> np.ndarray:
    """The inverse of `quantize`, to within (max - min) / 510."""
    data = np.frombuffer(base64.b64decode(encoded["data"]), dtype=np.uint8)
    values = encoded["min"] + (encoded["max"] - encoded["min"]) * data.astype(np.float32) / 255.0
    return values.reshape(encoded["shape"])
