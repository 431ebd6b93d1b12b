"""Decode a PNG a band of rows at a time, so a 24-megapixel upload never sits in memory whole.

Pillow decodes a PNG in one piece: 92 MB for a 4800x4800 RGBA image, even when it compresses
to 100 KB. Here the IDAT stream is inflated a megabyte at a time (zlib's `max_length`, so
a zlib bomb cannot inflate further than the header's rows), and each band is unfiltered by
Pillow's own PNG decoder: the band's filtered rows are handed to it as a small stream of their
own, behind the previous band's last row (stored unfiltered), which is all PNG's Up, Average
and Paeth filters look back at.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import numpy as np
from PIL import Image

BAND_BYTES = 1 << 20  # inflated bytes per band: small enough to stay in the CPU caches
STORED_BLOCK = 65535  # deflate's largest stored (uncompressed) block
# Pillow's (mode, rawmode) for the PNGs decoded here, and bytes per pixel. The modes hold the
# file's samples exactly, so the last row of a band is the next band's reference row. Other
# kinds (1-, 2-, 4-bit, 16-bit colour, interlaced) are decoded whole by the caller.
STREAMED = {("L", "L"): 1, ("LA", "LA"): 2, ("RGB", "RGB"): 3, ("RGBA", "RGBA"): 4, ("P", "P"): 1,
            ("I;16", "I;16B"): 2}


class TruncatedPng(ValueError):
    """The image data ends before the header's last row, or is not valid zlib."""


def can_stream(image: Image.Image) -> bool:
    """A single-frame, non-interlaced PNG in one of the STREAMED layouts, not yet decoded."""
    if image.format != "PNG" or image.info.get("interlace") or getattr(image, "is_animated", False):
        return False
    if len(image.tile) != 1 or image.tile[0].codec_name != "zip":
        return False
    if image.mode == "P" and image.palette is None:  # no PLTE chunk: left to Pillow to judge
        return False
    return (image.mode, image.tile[0].args) in STREAMED


def chunks(data: bytes, kind: bytes) -> Iterator[memoryview]:
    """The payloads of every chunk of one kind, without copying them."""
    view, position = memoryview(data), 8
    while position + 8 <= len(data):
        length = int.from_bytes(view[position:position + 4], "big")
        if view[position + 4:position + 8] == kind:
            yield view[position + 8:position + 8 + length]
        position += 12 + length


def inflate(parts: Iterator[memoryview], size: int, total: int) -> Iterator[bytes]:
    """The zlib stream split over `parts`, inflated in blocks of `size` bytes, `total` at most."""
    inflater, pending, produced = zlib.decompressobj(), b"", 0
    pieces, have = [], 0
    try:
        while produced < total:
            if not pending and not inflater.eof:
                pending = next(parts, b"")
            piece = inflater.decompress(pending, min(size - have, total - produced))
            pending = inflater.unconsumed_tail
            if not piece and not pending:  # the stream or its input has ended
                break
            pieces.append(piece)
            have += len(piece)
            produced += len(piece)
            if have == size:
                yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
                pieces, have = [], 0
    except zlib.error as error:
        raise TruncatedPng(f"corrupt image data ({error})") from error
    if have:
        yield b"".join(pieces)


def stored_zlib(*parts: bytes | bytearray) -> bytes:
    """A zlib stream holding `parts` uncompressed (stored blocks), without the Adler-32 trailer:
    Pillow's decoder stops after the image's last row, before it would look for one. Five
    times faster than zlib.compress(level=0), and all that decoder needs."""
    pieces = [b"\x78\x01"]
    views = [memoryview(part) for part in parts]
    total = sum(len(view) for view in views)
    for view in views:
        for start in range(0, len(view), STORED_BLOCK):
            piece = view[start:start + STORED_BLOCK]
            total -= len(piece)
            pieces += [struct.pack("<BHH", total == 0, len(piece), 0xFFFF ^ len(piece)), piece]
    return b"".join(pieces)


def bands(data: bytes, image: Image.Image, multiple: int = 1) -> Iterator[Image.Image]:
    """The image as consecutive bands of whole rows, each a multiple of `multiple` rows but
    the last, each carrying the image's palette and transparency."""
    width, height = image.size
    mode, rawmode = image.mode, image.tile[0].args
    row = 1 + width * STREAMED[(mode, rawmode)]  # a filter-type byte, then the samples
    rows = max(1, BAND_BYTES // (row * multiple)) * multiple
    prior = bytes(row - 1)  # PNG's filters see zeros above the first row
    done = 0
    idat = (part for part in chunks(data, b"IDAT") if len(part))
    for block in inflate(idat, rows * row, height * row):
        count = len(block) // row
        try:
            band = Image.frombytes(mode, (width, count + 1), stored_zlib(b"\0" + prior, block), "zip", rawmode)
        except ValueError as error:
            raise TruncatedPng(f"corrupt image data ({error})") from error
        last = np.asarray(band.crop((0, count, width, count + 1)))
        prior = (last.astype(">u2") if mode == "I;16" else last).tobytes()
        band = band.crop((0, 1, width, count + 1))
        if mode == "P":
            band.putpalette(image.palette)
        if "transparency" in image.info:
            band.info["transparency"] = image.info["transparency"]
        done += count
        yield band
    if done < height:
        raise TruncatedPng(f"image data ends after {done} of {height} rows")
