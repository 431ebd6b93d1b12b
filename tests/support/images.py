"""Image files as uploads arrive: encoded in any format, a digit on a big page, a decompression
bomb's header."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def dark_on_light_upload(digit: np.ndarray, size: int, canvas=(900, 700), at=(500, 320)) -> Image.Image:
    """The digit inverted to black on white, scaled up and pasted off-centre on a big page."""
    big = Image.fromarray(255 - digit).resize((size, size), Image.Resampling.BICUBIC)
    page = Image.new("L", canvas, 255)
    page.paste(big, at)
    return page


def png_claiming_size(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge image: a decompression bomb's first bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
