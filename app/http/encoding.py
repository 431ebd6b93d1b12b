"""How arrays travel as JSON: small ones as lists of numbers, large ones as deflated uint8 with a
scale; and the JSON encoder that writes them (orjson, numpy arrays without Python lists)."""
from __future__ import annotations

import base64
import zlib

import numpy as np
import orjson
from flask.json.provider import DefaultJSONProvider

DECIMALS = 5  # float32 carries ~7 digits; 5 keep the numbers exact enough and the JSON short


def deflate(data: bytes) -> bytes:
    """zlib format, run-length strategy: ReLU maps are ~85% zeros, and on them Z_RLE is both
    faster (0.45 against 0.8 ms for 102 KB) and smaller (21 against 27 KB) than the default."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS, 8, zlib.Z_RLE)
    return compressor.compress(data) + compressor.flush()


def rounded(array) -> np.ndarray | float:
    """Numbers for the JSON answer, to DECIMALS places; arrays stay numpy arrays, which the
    encoder below writes straight to JSON (4,000 numbers as Python floats cost ~1 ms more)."""
    values = np.round(np.asarray(array, dtype=np.float64), DECIMALS)
    return float(values) if values.ndim == 0 else values


class NumpyJSONProvider(DefaultJSONProvider):
    """Flask's JSON by orjson: numpy arrays and scalars written as JSON numbers (NaN as null),
    keys in the order the payload builds them; request bodies read ~3x faster than Python's json
    reads them (0.5 ms for a 28x28 digit)."""

    OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

    def loads(self, s: str | bytes, **kwargs):
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError:
            # What orjson refuses and Python's json reads: NaN and Infinity literals, integers past
            # 64 bits (validation then answers 422 naming the field), or truly malformed JSON,
            # which raises here as before (400).
            return super().loads(s, **kwargs)

    def dumps(self, obj, **kwargs) -> str:
        return self._encode(obj).decode()

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self._encode(obj) + b"\n", mimetype=self.mimetype)

    def _encode(self, obj) -> bytes:
        # orjson takes C-contiguous arrays only; `rounded` and `quantize` make fresh ones
        return orjson.dumps(obj, default=self.default, option=self.OPTIONS)


def quantize(array) -> dict:
    """value = min + (max - min) * byte / 255, the bytes deflated (zlib format, what a browser's
    DecompressionStream('deflate') reads): a 256x20x20 ReLU map is ~21 KB instead of 2.1 MB."""
    array = np.asarray(array, dtype=np.float32)
    low, high = float(array.min()), float(array.max())
    span = high - low
    if span == 0:
        data = np.zeros(array.shape, np.uint8)
    else:  # (x - low) * 255 / span lies in 0..255: + 0.5 and truncation round it, no clip needed
        data = ((array - low) * np.float32(255.0 / span) + np.float32(0.5)).astype(np.uint8)
    deflated = deflate(data.tobytes())
    return {"encoding": "uint8", "compression": "deflate", "shape": list(array.shape),
            "min": low, "max": high, "data": base64.b64encode(deflated).decode("ascii")}


def dequantize(encoded: dict) -> np.ndarray:
    """The inverse of `quantize`, to within (max - min) / 510."""
    data = np.frombuffer(zlib.decompress(base64.b64decode(encoded["data"])), dtype=np.uint8)
    values = encoded["min"] + (encoded["max"] - encoded["min"]) * data.astype(np.float32) / 255.0
    return values.reshape(encoded["shape"])
