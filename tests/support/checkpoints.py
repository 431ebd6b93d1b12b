"""Damaged copies of a shipped checkpoint, each with a card (its metadata JSON) beside it: either
re-hashed, so that the damage passes the sha256 check and reaches the HDF5 loader, or the
shipped card unchanged, so that only the sha256 check can see it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py

from model.checkpoint import metadata_path, sha256_of
from model.registry import card

BLOCK = 4096  # bytes overwritten in the middle of the file


def datasets(path: Path) -> dict[str, tuple[int, int, int]]:
    """Each weight array of an HDF5 file: (object header's address, raw data's offset, its size)."""
    found = {}
    with h5py.File(path, "r") as file:
        def visit(name, item):
            if isinstance(item, h5py.Dataset):
                found[name] = (h5py.h5o.get_info(item.id).addr, item.id.get_offset(), item.id.get_storage_size())
        file.visititems(visit)
    return found


def truncated(data: bytes, path: Path) -> bytes:
    """An interrupted copy: the last 40% of the file missing (weights and object headers)."""
    return data[: len(data) * 6 // 10]


def header_overwritten(data: bytes, path: Path) -> bytes:
    """A block of the file's middle overwritten where HDF5 describes a weight array (its object
    header), so that the file opens but that array cannot be read."""
    middle = len(data) // 2
    address = min((header for header, _, _ in datasets(path).values()), key=lambda a: abs(a - middle))
    return data[:address] + b"\xa5" * BLOCK + data[address + BLOCK:]


def weights_overwritten(data: bytes, path: Path) -> bytes:
    """A block in the middle of the largest weight array's raw numbers overwritten: a file that
    HDF5 reads without complaint (the numbers carry no checksum); only its sha256 tells."""
    _, offset, size = max(datasets(path).values(), key=lambda entry: entry[2])
    start = offset + size // 2
    return data[:start] + b"\xa5" * BLOCK + data[start + BLOCK:]


DAMAGES = {"truncated": truncated, "header-overwritten": header_overwritten}


def damaged_copy(model_id: str, folder: Path, damage, rehash: bool = True) -> Path:
    """`model_id`'s shipped weights copied into `folder` under their own name and damaged by
    `damage(bytes, path) -> bytes`; the shipped card beside them, its sha256 that of the damaged
    file when `rehash` (else the shipped file's). Returns the weights' path."""
    source = card(model_id).checkpoint
    weights = folder / source.name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, weights)
    damaged = damage(weights.read_bytes(), weights)
    assert damaged != weights.read_bytes()
    weights.write_bytes(damaged)
    metadata = json.loads(metadata_path(source).read_text())
    if rehash:
        metadata["sha256"] = sha256_of(weights)
    metadata_path(weights).write_text(json.dumps(metadata, indent=2) + "\n")
    return weights
