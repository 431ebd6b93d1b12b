"""The decoder's weights as one binary file (GET /api/decoder), for a client that decodes by
itself: the CAPSDEC1 format, laid out in docs/api.md ("Decoder weights"); read back by
read_decoder_weights. The page itself asks POST /api/reconstruct (the static edition runs the
exported decoder).
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
