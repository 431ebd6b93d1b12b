"""Uploads to a small grey image: checked before decoding, decoded at reduced size.

Whatever an upload's pixel count, no stage holds much more than MAX_SIDE x MAX_SIDE samples:
JPEG is decoded at 1/2, 1/4 or 1/8 scale by its own DCT (`Image.draft`), PNG a band of rows
at a time (app/uploads/png_bands.py), and every band is reduced to the working grid in 8-bit Pillow
operations before any floating-point work. What is decoded whole (GIF, BMP, WebP, interlaced
or 16-bit colour PNG, progressive JPEG's coefficients) is refused when its decoder would need
more than DECODE_BUDGET bytes, by a cost per pixel measured for each (bench/uploads.py).
"""
from __future__ import annotations

import io
import math
from collections.abc import Iterable

import numpy as np
from PIL import Image, ImageChops

from app.errors import ApiError
from app.uploads import png_bands

ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
MAX_PIXELS = 24_000_000  # a 6000x4000 photo; more is refused before decoding
MAX_SIDE = 1024  # the working grid: at most about 1 megapixel
DECODE_BUDGET = 48 << 20  # bytes a whole-image decoder may use, for at most 64 MB a request
WEBP_BYTES_PER_PIXEL = 16  # libwebp's canvas, Pillow's copy of it as bytes, the image (measured: 15.3)
STORAGE = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}  # Pillow's bytes a pixel; else 4
PNG_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "I;16": 2, "I;16B": 2, "I": 2, "RGB": 3}  # else 4
# EXIF orientation -> numpy steps that undo it (as ImageOps.exif_transpose)
ORIENTATIONS = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
                5: lambda a: a.T, 6: lambda a: np.rot90(a, -1), 7: lambda a: a[::-1, ::-1].T,
                8: lambda a: np.rot90(a)}


def open_image(data: bytes) -> Image.Image:
    """Read the header only: known formats, pixel count checked, nothing decoded yet."""
    if not data:
        raise ApiError("The image file is empty.", 400)
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as error:  # Pillow's own check, at its default limit
        raise ApiError(f"Image has too many pixels ({error}).", 413) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ApiError("The file is not an image in a supported format "
                       f"({', '.join(ACCEPTED_FORMATS)}).", 415) from error
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ApiError(f"Image is {width}x{height} pixels: at most {MAX_PIXELS:,} are accepted.", 413)
    if width < 1 or height < 1:
        raise ApiError("Image has no pixels.", 422)
    return image


def decode_grey(data: bytes) -> np.ndarray:
    """An upload as float32 (h, w) in 0..1, long side at most MAX_SIDE, transparency over a
    contrasting background, EXIF orientation applied."""
    image = open_image(data)
    factor = reduction(image.size)
    try:
        if png_bands.can_stream(image):
            check_inflated_size(image)
            grey = from_bands(png_bands.bands(data, image, factor), factor)
        else:
            check_decode_cost(image, factor)
            if image.format == "JPEG" and factor > 1:  # DCT scaling: the decoder does most of it
                image.draft("L", (math.ceil(image.width / factor), math.ceil(image.height / factor)))
                factor = reduction(image.size)
            image.seek(0)  # the first frame of an animation
            image.load()
            grey = grey_from_image(image, factor)
    except png_bands.TruncatedPng as error:
        raise ApiError(f"The image is truncated or corrupt ({error}).", 400) from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ApiError(f"The image is truncated or corrupt ({error}).", 400) from error
    except Image.DecompressionBombError as error:
        raise ApiError(f"Image has too many pixels ({error}).", 413) from error
    return orient(grey, image, data)


def check_inflated_size(image: Image.Image) -> None:
    """A streamed PNG is read in bands, so memory stays small, but every byte of it is still
    inflated: about 3 ms of CPU per MB (bench/uploads.py). Past DECODE_BUDGET bytes that alone
    would break the 0.3 s a request may take, so such a file is refused, as a 413."""
    width, height = image.size
    inflated = width * height * PNG_BYTES_PER_PIXEL.get(image.mode, 4)
    if inflated > DECODE_BUDGET:
        raise ApiError(f"A {width}x{height} {image.mode} PNG inflates to {inflated >> 20} MB: at most "
                       f"{DECODE_BUDGET >> 20} MB are allowed. Send it in grey, smaller, or as a JPEG.", 413)


def reduction(size: tuple[int, int]) -> int:
    return max(1, math.ceil(max(size) / MAX_SIDE))


def decode_cost(image: Image.Image, factor: int) -> int:
    """Bytes the decoder will hold for an image decoded whole (a JPEG at its draft scale)."""
    pixels = image.width * image.height
    if image.format == "WEBP":
        return WEBP_BYTES_PER_PIXEL * pixels
    if image.format == "JPEG":
        scale = min(8, 1 << (factor.bit_length() - 1))  # the DCT scale draft() will choose
        cost = math.ceil(image.width / scale) * math.ceil(image.height / scale) * STORAGE.get(image.mode, 4)
        if image.info.get("progressive"):  # libjpeg keeps every coefficient (2 bytes) of every scan
            largest = max(h * v for _, h, v, _ in image.layer)
            cost += 2 * pixels * sum(h * v for _, h, v, _ in image.layer) // largest
        return cost
    return pixels * STORAGE.get(image.mode, 4)


def check_decode_cost(image: Image.Image, factor: int) -> None:
    cost = decode_cost(image, factor)
    if cost > DECODE_BUDGET:
        kind = "progressive JPEG" if image.format == "JPEG" else image.format
        raise ApiError(f"This {image.width}x{image.height} {kind} would need {cost / 2**20:.0f} MB to decode: "
                       f"at most {DECODE_BUDGET // 2**20} MB are allowed. Baseline JPEG and 8-bit PNG of "
                       f"any accepted size are decoded in pieces: send one of those, or a smaller image.", 413)


def grey_from_image(image: Image.Image, factor: int | None = None) -> np.ndarray:
    """A decoded image (any mode) as in decode_grey, without orientation."""
    factor = factor or reduction(image.size)
    if image.mode in ("I", "F"):  # 32-bit samples: only built in memory, never from an upload
        return composite(block_mean(unit_range(np.asarray(image, np.float32)), factor), None)
    rows = max(1, png_bands.BAND_BYTES // (image.width * 4 * factor)) * factor
    pieces = (image.crop((0, top, image.width, min(top + rows, image.height)))
              for top in range(0, image.height, rows))
    return from_bands(pieces, factor)


def from_bands(pieces: Iterable[Image.Image], factor: int) -> np.ndarray:
    """Reduce each band by `factor`, then composite: luminance premultiplied by alpha and alpha
    are averaged separately (box filter), which is exact for compositing afterwards."""
    luminance, alpha = [], []
    for band in pieces:  # a crop keeps the palette and the transparency
        lum, opacity = reduced_luminance(band, factor)
        luminance.append(lum)
        alpha.append(opacity)
    grey = np.concatenate(luminance)
    opacity = None if all(a is None for a in alpha) else np.concatenate(
        [np.ones_like(lum) if a is None else a for lum, a in zip(luminance, alpha)])
    return composite(grey, opacity)


def reduced_luminance(band: Image.Image, factor: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(luminance x alpha, alpha) of one band, box-reduced by `factor`, float32 in 0..1."""
    if band.mode.startswith("I;16"):
        return np.asarray(band.convert("F").reduce(factor)) / np.float32(65535.0), None
    if band.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in band.info:
        band = band if band.mode == "RGBA" else band.convert("RGBA")
        lum, opacity = band.convert("L"), band.getchannel("A")
        if opacity.getextrema()[0] < 255:
            return (np.asarray(ImageChops.multiply(lum, opacity).reduce(factor), np.float32) / 255.0,
                    np.asarray(opacity.reduce(factor), np.float32) / 255.0)
        band = lum
    lum = band if band.mode == "L" else band.convert("L")
    return np.asarray(lum.reduce(factor), np.float32) / 255.0, None


def composite(premultiplied: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Transparency over the background the strokes stand out from: a canvas export with black
    strokes goes on white, with white strokes on black."""
    if alpha is None:
        return premultiplied
    ink_luminance = float(premultiplied.sum() / max(float(alpha.sum()), 1e-6))
    background = 1.0 if ink_luminance < 0.5 else 0.0
    return premultiplied + (1.0 - alpha) * background


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return values
    height, width = values.shape
    padded = np.pad(values, ((0, -height % factor), (0, -width % factor)), mode="edge")
    return padded.reshape(padded.shape[0] // factor, factor, -1, factor).mean(axis=(1, 3), dtype=np.float32)


def unit_range(values: np.ndarray) -> np.ndarray:
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if values.max() <= 255 and values.min() >= 0:
        return values / 255.0
    low, high = float(values.min()), float(values.max())
    return np.zeros_like(values) if high <= low else (values - low) / (high - low)


def orient(grey: np.ndarray, image: Image.Image, data: bytes) -> np.ndarray:
    """Undo the EXIF orientation of a photo. A PNG's eXIf chunk is read from the bytes:
    Pillow's getexif() would decode the whole image to look for it past the pixels."""
    try:
        if image.format == "PNG":
            exif = Image.Exif()
            raw = next(png_bands.chunks(data, b"eXIf"), None)
            if raw is not None:
                exif.load(bytes(raw))
        else:
            exif = image.getexif()
        step = ORIENTATIONS.get(exif.get(0x0112))
    except Exception:
        return grey
    return np.ascontiguousarray(step(grey)) if step else grey
