"""How arrays travel as JSON: small ones as lists, large ones as deflated uint8 with a scale."""
from __future__ import annotations

import base64
import zlib

import numpy as np

DECIMALS = 5  # float32 carries ~7 digits; 5 keep the numbers exact enough and the JSON short


def deflate(data: bytes) -> bytes:
    """zlib format, run-length strategy: ReLU maps are ~85% zeros, and on them Z_RLE is both
    faster (0.45 against 0.8 ms for 102 KB) and smaller (21 against 27 KB) than the default."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS, 8, zlib.Z_RLE)
    return compressor.compress(data) + compressor.flush()


def as_list(array) -> list | float:
    return np.round(np.asarray(array, dtype=np.float64), DECIMALS).tolist()


def quantize(array) -> dict:
    """value = min + (max - min) * byte / 255, the bytes deflated (zlib format, what a browser's
    DecompressionStream('deflate') reads): a 256x20x20 ReLU map is ~21 KB instead of 2.1 MB."""
    array = np.asarray(array, dtype=np.float32)
    low, high = float(array.min()), float(array.max())
    span = high - low
    scaled = np.zeros(array.shape) if span == 0 else (array - low) / span * 255.0
    data = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    deflated = deflate(data.tobytes())
    return {"encoding": "uint8", "compression": "deflate", "shape": list(array.shape),
            "min": low, "max": high, "data": base64.b64encode(deflated).decode("ascii")}


def dequantize(encoded: dict) -> np.ndarray:
    """The inverse of `quantize`, to within (max - min) / 510."""
    data = np.frombuffer(zlib.decompress(base64.b64decode(encoded["data"])), dtype=np.uint8)
    values = encoded["min"] + (encoded["max"] - encoded["min"]) * data.astype(np.float32) / 255.0
    return values.reshape(encoded["shape"])
