"""The decoder's weights as one binary file, for the page to run the decoder itself
(GET /api/decoder, web/engines/decoder.js).

Layout, all little-endian:
    bytes 0-7     b"CAPSDEC1"
    bytes 8-11    uint32 H, the length of the header
    12 .. 12+H    UTF-8 JSON header: {"dtype": "float16", "capsules": 10, "capsule_dim": 16,
                  "image_shape": [28, 28], "sha256": the checkpoint's, "sweep_perturbations":
                  the Figure 4 grid's 11 offsets, "layers": [{"name",
                  "inputs", "units", "activation" ("relu" | "sigmoid"), "kernel": [offset, count],
                  "bias": [offset, count]}, ...]}, padded with spaces to a multiple of 8 bytes
    then          the data: each layer's kernel (inputs x units, row-major: row i holds input i's
                  weights to every unit, as a Keras Dense kernel) and bias as IEEE float16;
                  offsets are in bytes from the start of the data, counts in values.
The first layer's input is the masked 10 x 16 capsules, flattened: only the 16 rows of the
decoded digit matter. float16 keeps the decoded pixels within about 1e-3 of the server's.
"""
from __future__ import annotations

import json
import struct

import numpy as np

MAGIC = b"CAPSDEC1"


def decoder_weights(decoder, capsules: int, capsule_dim: int, sha256: str, sweep_perturbations) -> bytes:
    """`decoder`: model/decoder.py's Decoder, built; `sweep_perturbations`: the Figure 4 grid's
    offsets, so that the page draws the same grid as POST /api/sweep."""
    layers, chunks, offset = [], [], 0
    for layer in (*decoder.hidden, decoder.output_layer):
        entry = {"name": layer.name, "inputs": int(layer.kernel.shape[0]), "units": int(layer.units),
                 "activation": layer.activation.__name__}
        for part, values in (("kernel", layer.kernel), ("bias", layer.bias)):
            data = np.asarray(values.numpy(), "<f2").tobytes()
            entry[part] = [offset, len(data) // 2]
            chunks.append(data)
            offset += len(data)
        layers.append(entry)
    header = json.dumps({"dtype": "float16", "capsules": capsules, "capsule_dim": capsule_dim,
                         "image_shape": list(decoder.image_shape[:2]), "sha256": sha256,
                         "sweep_perturbations": [float(p) for p in sweep_perturbations],
                         "layers": layers}).encode()
    header += b" " * (-(len(MAGIC) + 4 + len(header)) % 8)
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(chunks)


def read_decoder_weights(data: bytes) -> tuple[dict, list[dict[str, np.ndarray]]]:
    """The inverse, for tests and other clients: the header and each layer's float32 arrays."""
    if data[:8] != MAGIC:
        raise ValueError("not a CAPSDEC1 file")
    (length,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12:12 + length])
    body = data[12 + length:]
    layers = []
    for layer in header["layers"]:
        arrays = {part: np.frombuffer(body, "<f2", layer[part][1], layer[part][0]).astype(np.float32)
                  for part in ("kernel", "bias")}
        arrays["kernel"] = arrays["kernel"].reshape(layer["inputs"], layer["units"])
        layers.append(arrays)
    return header, layers
