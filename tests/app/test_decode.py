"""Uploads decoded at reduced size (app/uploads/decode.py, app/uploads/png_bands.py): the same pixels as Pillow's
whole decode, a bounded amount of them at a time, and every refusal before decoding."""
from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.errors import ApiError
from app.uploads import png_bands
from app.uploads.decode import DECODE_BUDGET, MAX_SIDE, decode_grey
from support.digits import PROJECT_ROOT

RNG = np.random.default_rng(7)


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def handmade_png(samples: np.ndarray, depth: int, colour: int, interlace: bool = False,
                 idat: bytes | None = None, chunks: bytes = b"") -> bytes:
    """A PNG written here from raw samples (h, w[, channels]), each row with the next of PNG's
    five filters in turn; also what Pillow cannot write (16-bit colour, Adam7 interlacing)."""
    height, width = samples.shape[:2]
    raw = samples.astype(">u2" if depth == 16 else np.uint8).reshape(height, width, -1)
    pixel_bytes = raw.shape[2] * raw.dtype.itemsize
    if interlace:  # Adam7: seven sub-images, each filtered on its own
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        sub_images = [raw[y0::dy, x0::dx] for x0, y0, dx, dy in passes]
    else:
        sub_images = [raw]
    rows = b"".join(filtered(np.ascontiguousarray(image).view(np.uint8).reshape(image.shape[0], -1), pixel_bytes)
                    for image in sub_images if image.size)
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlace))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + chunks
            + png_chunk(b"IDAT", zlib.compress(rows) if idat is None else idat) + png_chunk(b"IEND", b""))


def filtered(rows: np.ndarray, pixel_bytes: int) -> bytes:
    """PNG filtering (None, Sub, Up, Average, Paeth, in turn) of uint8 rows (h, row bytes)."""
    out, prior = [], np.zeros(rows.shape[1], int)
    for y, row in enumerate(rows.astype(int)):
        kind = y % 5
        left = np.concatenate([np.zeros(pixel_bytes, int), row[:-pixel_bytes]])
        up_left = np.concatenate([np.zeros(pixel_bytes, int), prior[:-pixel_bytes]])
        guess = left + prior - up_left
        near_left, near_up, near_up_left = abs(guess - left), abs(guess - prior), abs(guess - up_left)
        paeth = np.where((near_left <= near_up) & (near_left <= near_up_left), left,
                         np.where(near_up <= near_up_left, prior, up_left))
        predictor = [0, left, prior, (left + prior) // 2, paeth][kind]
        out.append(bytes([kind]) + ((row - predictor) % 256).astype(np.uint8).tobytes())
        prior = row
    return b"".join(out)


def noisy_digit(width: int, height: int) -> np.ndarray:
    """uint8 grey: noise over a dark disc, so the encoder's adaptive filters use every type."""
    rows, cols = np.mgrid[0:height, 0:width]
    disc = ((rows - height / 2) ** 2 + (cols - width / 3) ** 2) < (min(width, height) / 3) ** 2
    return np.clip(np.where(disc, 40, 210) + RNG.normal(0, 25, (height, width)), 0, 255).astype(np.uint8)


def reduced(values: np.ndarray, factor: int) -> np.ndarray:
    """Block means by `factor`, edge blocks averaging only the pixels they have: Image.reduce's rule."""
    sums = values.astype(np.float64)
    for axis in (0, 1):
        starts = np.arange(0, values.shape[axis], factor)
        counts = np.diff(np.append(starts, values.shape[axis]))
        sums = np.add.reduceat(sums, starts, axis=axis) / np.expand_dims(counts, 1 - axis)
    return sums


def expected_grey(luma: np.ndarray, alpha: np.ndarray, factor: int) -> np.ndarray:
    """decode_grey's contract in float64: luminance x alpha and alpha box-averaged, then composited
    over the background the strokes stand out from."""
    premultiplied, opacity = reduced(luma * alpha, factor), reduced(alpha, factor)
    background = 1.0 if premultiplied.sum() / opacity.sum() < 0.5 else 0.0
    return premultiplied + (1 - opacity) * background


def pillow_luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma as Pillow's convert("L") rounds it, in 0..1."""
    return (rgb.astype(np.int64) @ np.array([19595, 38470, 7471]) + 0x8000 >> 16) / 255.0


@pytest.mark.parametrize("kind", ["L", "LA", "RGB", "RGBA", "P", "P+tRNS", "I;16"])
def test_png_in_bands_matches_the_samples(monkeypatch, kind):
    """Every PNG filter, across many band seams: the samples come back exactly."""
    monkeypatch.setattr(png_bands, "BAND_BYTES", 60_000)
    width, height = 2 * MAX_SIDE + 37, 301  # reduced by 3, with ragged last blocks
    grey = noisy_digit(width, height)
    alpha = np.where(grey < 128, 255, RNG.integers(0, 256, grey.shape)).astype(np.uint8)
    colour = np.dstack([grey, 255 - grey, RNG.integers(0, 256, grey.shape)]).astype(np.uint8)
    palette = RNG.integers(0, 256, (256, 3)).astype(np.uint8)
    palette_alpha = RNG.integers(0, 256, 256).astype(np.uint8)
    plte = png_chunk(b"PLTE", palette.tobytes())
    cases = {  # samples, bit depth, colour type, extra chunks, luminance, alpha
        "L": (grey, 8, 0, b"", grey / 255.0, None),
        "LA": (np.dstack([grey, alpha]), 8, 4, b"", grey / 255.0, alpha / 255.0),
        "RGB": (colour, 8, 2, b"", pillow_luma(colour), None),
        "RGBA": (np.dstack([colour, alpha]), 8, 6, b"", pillow_luma(colour), alpha / 255.0),
        "P": (grey, 8, 3, plte, pillow_luma(palette)[grey], None),
        "P+tRNS": (grey, 8, 3, plte + png_chunk(b"tRNS", palette_alpha.tobytes()),
                   pillow_luma(palette)[grey], palette_alpha[grey] / 255.0),
        "I;16": (grey.astype(np.uint16) * 257 + RNG.integers(0, 257, grey.shape).astype(np.uint16), 16, 0, b"",
                 None, None),
    }
    samples, depth, colour_type, chunks, luma, opacity = cases[kind]
    data = handmade_png(samples, depth, colour_type, chunks=chunks)
    opened = Image.open(io.BytesIO(data))
    assert png_bands.can_stream(opened)
    if kind == "I;16":
        expected, tolerance = reduced(samples / 65535.0, 3), 1e-6
    else:
        expected = expected_grey(luma, np.ones_like(luma) if opacity is None else opacity, 3)
        # Image.reduce rounds its means to 8 bits, and luma x alpha is rounded once more
        tolerance = (1 if opacity is None else 2) / 255
    result = decode_grey(data)
    assert result.shape == expected.shape == (101, 695)
    assert np.abs(result - expected).max() <= tolerance


def test_png_bands_are_bounded_whatever_the_image_size(monkeypatch):
    monkeypatch.setattr(png_bands, "BAND_BYTES", 100_000)
    width, height = 3000, 700
    data = encode(Image.fromarray(noisy_digit(width, height)).convert("RGBA"))
    opened = Image.open(io.BytesIO(data))
    heights = [band.height for band in png_bands.bands(data, opened, multiple=3)]
    assert sum(heights) == height
    assert all(h % 3 == 0 for h in heights[:-1])
    assert max(heights) * (1 + 4 * width) <= 100_000  # never more than one band's bytes at once


def test_a_zlib_bomb_inflates_no_further_than_the_header_says():
    rows = b"".join(b"\0" + bytes([200]) * 50 for _ in range(40))
    bomb = zlib.compress(rows + b"\0" * 200_000_000, 9)  # 200 MB past the image's 2 KB
    assert len(bomb) < 300_000
    data = handmade_png(np.zeros((40, 50, 1)), 8, 0, idat=bomb)
    opened = Image.open(io.BytesIO(data))
    inflated = sum(len(block) for block in png_bands.inflate(png_bands.chunks(data, b"IDAT"), 1 << 20, 40 * 51))
    assert inflated == 40 * 51
    assert [band.size for band in png_bands.bands(data, opened)] == [(50, 40)]


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_png_data_is_a_400(damage):
    data = encode(Image.fromarray(noisy_digit(400, 300)))
    start = data.index(b"IDAT") + 4
    if damage == "truncated":
        damaged = handmade_png(np.zeros((300, 400, 1)), 8, 0, idat=zlib.compress(bytes(401 * 150)))
    else:
        damaged = data[:start + 100] + bytes(range(256)) * 4 + data[start + 1124:]
    with pytest.raises(ApiError) as refused:
        decode_grey(damaged)
    assert refused.value.status == 400 and "truncated or corrupt" in refused.value.message


@pytest.mark.parametrize("depth,colour,channels", [(16, 2, 3), (16, 6, 4), (16, 4, 2)])
def test_sixteen_bit_colour_png_is_decoded_whole(depth, colour, channels):
    grey = noisy_digit(300, 200).astype(np.uint16) * 257
    opaque = np.full_like(grey, 65535)
    samples = np.dstack({2: [grey, opaque], 3: [grey] * 3, 4: [grey] * 3 + [opaque]}[channels])
    data = handmade_png(samples, depth, colour)
    assert not png_bands.can_stream(Image.open(io.BytesIO(data)))
    assert np.abs(decode_grey(data) - grey / 65535).max() < 1.5 / 255


def test_interlaced_png_gives_the_same_grey_as_the_plain_one():
    grey = noisy_digit(250, 180)[..., None]
    interlaced, plain = handmade_png(grey, 8, 0, interlace=True), handmade_png(grey, 8, 0)
    assert Image.open(io.BytesIO(interlaced)).info.get("interlace")
    assert np.array_equal(decode_grey(interlaced), decode_grey(plain))
    assert np.array_equal(decode_grey(plain), grey[..., 0] / np.float32(255))


def test_big_jpeg_is_decoded_at_reduced_scale_by_its_own_dct():
    grey = noisy_digit(4000, 3000)
    data = encode(Image.fromarray(grey), "JPEG", quality=95)
    result = decode_grey(data)
    assert result.shape == (750, 1000)  # draft: 1/2 (2000x1500), then reduced by 2
    whole = np.asarray(Image.open(io.BytesIO(data)).convert("L").reduce(4), np.float32) / 255
    assert np.abs(result - whole).mean() < 0.01


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    image = Image.fromarray(noisy_digit(90, 60))
    exif = Image.Exif()
    exif[0x0112] = orientation
    for fmt in ("JPEG", "PNG"):
        data = encode(image, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))
        upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("L"), np.float32) / 255
        assert np.array_equal(decode_grey(data), upright), (fmt, orientation)


@pytest.mark.parametrize("fmt,size,options", [
    ("WEBP", (1800, 1800), {"quality": 80}),                     # libwebp: ~16 bytes a pixel
    ("JPEG", (4000, 4000), {"progressive": True, "subsampling": 0}),  # every coefficient kept
])
def test_images_too_costly_to_decode_whole_are_refused_before_decoding(fmt, size, options):
    data = encode(Image.new("RGB", size, (200, 200, 200)), fmt, **options)
    with pytest.raises(ApiError) as refused:
        decode_grey(data)
    assert refused.value.status == 413 and f"at most {DECODE_BUDGET >> 20} MB" in refused.value.message


def test_sixteen_bit_colour_png_beyond_the_budget_is_refused():
    width, height = 4000, 3500  # decoded whole as 8-bit RGBA: 56 MB
    rows = zlib.compress(bytes((1 + 8 * width) * height))
    data = handmade_png(np.zeros((height, 1, 4)), 16, 6, idat=rows)
    data = data.replace(struct.pack(">II", 1, height), struct.pack(">II", width, height), 1)
    data = data[:29] + struct.pack(">I", zlib.crc32(data[12:29])) + data[33:]  # IHDR's CRC
    with pytest.raises(ApiError) as refused:
        decode_grey(data)
    assert refused.value.status == 413 and "4000x3500 PNG would need 53 MB" in refused.value.message


@pytest.mark.parametrize("fmt,size,options", [
    ("WEBP", (1600, 1200), {"quality": 80}),
    ("JPEG", (3000, 3000), {"progressive": True}),  # 4:2:0, 27 MB of coefficients
    ("GIF", (4800, 4800), {}),
    ("JPEG", (6000, 4000), {"quality": 80}),  # baseline: any accepted size
    ("PNG", (6000, 4000), {}),
])
def test_images_within_the_budget_are_decoded(fmt, size, options):
    image = Image.new("L", size, 220)
    image.paste(40, (size[0] // 3, size[1] // 4, size[0] // 2, size[1] * 3 // 4))
    result = decode_grey(encode(image.convert("RGB") if fmt == "WEBP" else image, fmt, **options))
    assert max(result.shape) <= MAX_SIDE
    assert result.min() < 0.25 and result.max() > 0.8


@pytest.mark.parametrize("mode,size,refused", [
    ("L", (6000, 4000), False),    # 24 MB inflated: accepted
    ("RGB", (4000, 4000), False),  # 48 MB, just within
    ("RGB", (6000, 4000), True),   # 72 MB
    ("RGBA", (4800, 4800), True),  # 92 MB: the canvas export that took 0.45 s of CPU
])
def test_colour_pngs_that_would_inflate_past_the_budget_are_refused(mode, size, refused):
    image = Image.new(mode, size, 0)
    data = encode(image)
    if refused:
        with pytest.raises(ApiError) as error:
            decode_grey(data)
        assert error.value.status == 413 and f"{size[0]}x{size[1]} {mode} PNG inflates to" in error.value.message
    else:
        from app.uploads.decode import check_inflated_size
        check_inflated_size(Image.open(io.BytesIO(data)))  # no error: decoding goes on


def test_pixel_count_is_checked_before_decoding():
    data = bytearray(encode(Image.new("L", (64, 48), 128), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 5000, 6000)  # 30 megapixels, and no data for them
    with pytest.raises(ApiError) as refused:
        decode_grey(bytes(data))
    assert refused.value.status == 413 and "6000x5000" in refused.value.message


def test_importing_the_app_leaves_pillows_global_limit_alone():
    script = ("from PIL import Image; before = Image.MAX_IMAGE_PIXELS; "
              "import app.uploads.preprocess, app.uploads.decode, app.http.inputs; "
              "assert Image.MAX_IMAGE_PIXELS == before == 89478485, Image.MAX_IMAGE_PIXELS")
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True, timeout=120)


def test_a_palette_png_without_its_palette_is_left_to_pillow():
    indices = noisy_digit(80, 60)
    data = handmade_png(indices, 8, 3)  # colour type 3 but no PLTE chunk
    assert not png_bands.can_stream(Image.open(io.BytesIO(data)))
    assert decode_grey(data).shape == (60, 80)
