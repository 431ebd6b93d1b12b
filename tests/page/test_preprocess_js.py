"""The upload preprocessing in the browser (web/engines/browser/upload/preprocess.js, decode.js, ink.js,
resample.js) against app/uploads/preprocess.py's image_bytes_to_mnist and image_bytes_to_pair, in
Chromium.

The same bytes go to both: uploads of every accepted format and mode (gallery digits on a big
page, canvas exports with strokes on transparency, grey, 16-bit, palette and colour PNGs, JPEG
photos with uneven light and noise, EXIF-turned photos, GIF, BMP, WebP), a hairline pen on a big
page, soft digits filling their frame, two digits for the pair. The page's input must be within
1/255 of the server's on average for each (within 0.01/255 where the browser's decoder and
Pillow's give the same pixels), and what the server refuses the page refuses with the same
status and message.
"""
from __future__ import annotations

import base64
import functools
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from app.errors import ApiError
from app.uploads.preprocess import PAIR_BOX, PAIR_FIELD, image_bytes_to_mnist, image_bytes_to_pair, otsu_threshold
from support.digits import gallery_digit
from support.images import (
    almost_empty,
    dark_on_light_upload,
    encode,
    photo_of_seven,
    png_claiming_size,
    seven,
    shaded_page,
    tight_digits,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(scripts_page):
    return scripts_page  # one page for the module (tests/page/conftest.py)


MODULE = "/static/engines/browser/upload/preprocess.js"
TOLERANCE = 1 / 255  # mean absolute difference, the bound
EXACT = 0.01 / 255  # where both decoders give the same pixels the port is exact but for float rounding
PAIR = {"box": PAIR_BOX, "side": PAIR_FIELD}

RUN = """async ([module, data, options]) => {
  const { imageToInput } = await import(module);
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  try {
    const { pixels, shape } = await imageToInput(new Blob([bytes]), ...(options ? [options] : []));
    return { pixels: Array.from(pixels), shape };
  } catch (error) {
    return { status: error.status ?? null, message: error.message };
  }
}"""


# ---------------------------------------------------------------- uploads only this test makes

def canvas_export(ink: tuple[int, ...], soft: bool = False) -> bytes:
    """The drawing pad's PNG: a "7" on transparency, hard-edged or anti-aliased (drawn 4x larger
    and reduced, so its edges are partly transparent)."""
    scale = 4 if soft else 1
    canvas = Image.new("RGBA", (400 * scale, 400 * scale), (0, 0, 0, 0))
    points = [(120 * scale, 80 * scale), (300 * scale, 80 * scale), (170 * scale, 340 * scale)]
    ImageDraw.Draw(canvas).line(points, fill=ink, width=24 * scale, joint="curve")
    return encode(canvas.resize((400, 400), Image.Resampling.LANCZOS) if soft else canvas)


def coloured_inks(fmt: str = "PNG") -> bytes:
    """A "7" with a green bar, a red stroke and a black tick: how light each colour comes out next
    to the black depends on the weights of the luminance."""
    page = Image.new("RGB", (500, 400), (250, 250, 245))
    draw = ImageDraw.Draw(page)
    draw.line([(150, 100), (350, 100)], fill=(40, 170, 40), width=26)
    draw.line([(350, 100), (220, 330)], fill=(220, 30, 30), width=26)
    draw.line([(150, 100), (150, 150)], fill=(0, 0, 0), width=26)
    return encode(page, fmt, **({"quality": 90} if fmt == "JPEG" else {}))


def frame() -> bytes:
    """A 50x80 frame: fitted into 20 pixels it is 12.5 wide, which Python rounds to even."""
    page = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(page).rectangle([60, 50, 109, 129], outline=0, width=10)
    return encode(page)


def with_exif(image: Image.Image, fmt: str, orientation: int, **options) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, fmt, exif=exif.tobytes(), **options)


def pair_upload() -> bytes:
    """A 3 and an 8 overlapping as in MultiMNIST, dark on light, four times larger."""
    field = np.zeros((36, 36), np.uint8)
    field[2:30, 5:33] = gallery_digit(3)
    field[6:34, 1:29] = np.maximum(field[6:34, 1:29], gallery_digit(8))
    return encode(Image.fromarray(255 - field).resize((288, 288), Image.Resampling.BICUBIC))


def deep_gradient() -> bytes:
    """A 16-bit grey PNG whose low bytes matter: light rising across the page, a dark "7"."""
    rows, cols = np.mgrid[0:1500, 0:2100]
    image = Image.fromarray((20000 + 30 * cols + 7 * rows).astype(np.uint16))
    ImageDraw.Draw(image).line([(500, 300), (1500, 300), (900, 1300)], fill=1000, width=40)
    return encode(image)


def bold_ring() -> bytes:
    page = shaded_page(600, 600)
    ImageDraw.Draw(page).ellipse([60, 10, 540, 590], outline=25, width=170)
    return encode(page)


def with_chunk(png: bytes, kind: bytes, data: bytes) -> bytes:
    """A PNG with one more chunk after its header (a gAMA that Pillow ignores)."""
    chunk = struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return png[:33] + chunk + png[33:]


@functools.cache
def tight(index: int) -> bytes:
    return tight_digits(20)[index][0]


def zero(mode: str) -> Image.Image:
    return Image.fromarray(gallery_digit(0)).resize((112, 112)).convert(mode)


def turned_photo() -> Image.Image:
    return Image.open(io.BytesIO(photo_of_seven(2101, 1303, 5, seed=3))).convert("RGB")


# (kind, how to make the upload, options: None for one digit, PAIR for two, tolerance). Where both
# decoders give the same pixels (lossless, opaque or fully transparent) the port must agree to
# float rounding (EXACT); JPEG, lossy WebP and partly transparent strokes within TOLERANCE.
UPLOADS = [
    *((f"gallery {d} on a page", lambda d=d, size=size: encode(dark_on_light_upload(gallery_digit(d), size)), None, EXACT)
      for d, size in ((2, 420), (4, 300), (7, 500))),
    *((f"gallery {d} as it is", lambda d=d: encode(Image.fromarray(gallery_digit(d))), None, EXACT) for d in (3, 8)),
    ("canvas, black ink", lambda: canvas_export((0, 0, 0, 255)), None, EXACT),
    ("canvas, white ink", lambda: canvas_export((255, 255, 255, 255)), None, EXACT),
    ("canvas, soft black ink", lambda: canvas_export((0, 0, 0, 255), soft=True), None, TOLERANCE),
    ("canvas, soft blue ink", lambda: canvas_export((30, 60, 220, 255), soft=True), None, TOLERANCE),
    ("grey PNG", lambda: encode(seven(280, 280, 20)), None, EXACT),
    ("grey PNG, gAMA", lambda: with_chunk(encode(seven(400, 300, 12, paper=200, ink=60)), b"gAMA",
                                          struct.pack(">I", 100000)), None, EXACT),
    ("16-bit PNG", lambda: encode(Image.fromarray(gallery_digit(5).astype(np.uint16) * 257)), None, EXACT),
    ("16-bit PNG gradient", deep_gradient, None, EXACT),
    ("coloured inks PNG", coloured_inks, None, EXACT),
    ("coloured inks JPEG", lambda: coloured_inks("JPEG"), None, TOLERANCE),
    ("frame 12.5 pixels wide", frame, None, EXACT),
    ("JPEG photo 2400x1800", lambda: photo_of_seven(2400, 1800, 3), None, TOLERANCE),
    ("JPEG photo, EXIF 6", lambda: with_exif(turned_photo(), "JPEG", 6, quality=92), None, TOLERANCE),
    ("PNG, EXIF 3", lambda: with_exif(seven(2101, 1303, 40), "PNG", 3), None, EXACT),
    ("WebP, EXIF 6", lambda: with_exif(seven(1100, 700, 30).convert("RGB"), "WEBP", 6, lossless=True), None, EXACT),
    ("JPEG", lambda: encode(zero("RGB"), "JPEG", quality=95), None, TOLERANCE),
    ("GIF", lambda: encode(zero("P"), "GIF"), None, EXACT),
    ("BMP", lambda: encode(zero("RGB"), "BMP"), None, EXACT),
    ("WebP", lambda: encode(zero("RGB"), "WEBP", quality=95), None, TOLERANCE),
    ("PNG LA", lambda: encode(zero("LA")), None, EXACT),
    ("hairline on 1000x1000", lambda: encode(seven(1000, 1000, 1)), None, EXACT),
    ("bold ring on shaded paper", bold_ring, None, EXACT),
    *((f"tight soft digit {i}", lambda i=i: tight(i), None, TOLERANCE if i % 5 == 4 else EXACT)  # 1 in 5 a JPEG
      for i in (0, 4, 7, 9, 13, 14)),
    ("pair", pair_upload, PAIR, EXACT),
    ("pair, one digit", lambda: encode(dark_on_light_upload(gallery_digit(4), 300)), PAIR, EXACT),
]

REFUSED = [
    *((kind, lambda kind=kind: encode(almost_empty(kind))) for kind in ("uniform", "noise", "speck", "smudge")),
    ("empty file", lambda: b""),
    ("random bytes", lambda: np.random.default_rng(0).bytes(2000)),
    ("decompression bomb", lambda: png_claiming_size(100_000, 100_000)),
    ("5000x5000", lambda: png_claiming_size(5000, 5000)),
    ("truncated PNG", lambda: encode(Image.fromarray(gallery_digit(3)).resize((200, 200)))[:300]),
    ("truncated 16-bit PNG", lambda: deep_gradient()[:30_000]),
]


def server(data: bytes, options: dict | None) -> np.ndarray | ApiError:
    try:
        return (image_bytes_to_pair if options else image_bytes_to_mnist)(data)
    except ApiError as error:
        return error


def in_page(page, data: bytes, options: dict | None) -> dict:
    return page.evaluate(RUN, [MODULE, base64.b64encode(data).decode("ascii"), options])


@pytest.mark.parametrize("kind,make,options,tolerance", UPLOADS, ids=[kind for kind, *_ in UPLOADS])
def test_the_page_makes_the_same_input_as_the_server(page, kind, make, options, tolerance):
    data = make()
    expected = server(data, options)
    assert not isinstance(expected, ApiError), f"{kind}: the server refused it ({expected.message})"
    got = in_page(page, data, options)
    assert "pixels" in got, f"{kind}: the page refused it: {got}"
    side = expected.shape[0]
    assert got["shape"] == [side, side]
    pixels = np.asarray(got["pixels"], np.float32).reshape(side, side)
    difference = float(np.abs(pixels - expected).mean())
    print(f"{kind}: mean absolute difference {difference * 255:.4f}/255, largest {np.abs(pixels - expected).max() * 255:.2f}/255")
    assert difference <= tolerance, f"{kind}: {difference * 255:.4f}/255 from the server's input"


@pytest.mark.parametrize("kind,make", REFUSED, ids=[kind for kind, _ in REFUSED])
def test_the_page_refuses_what_the_server_refuses(page, kind, make):
    data = make()
    expected = server(data, None)
    assert isinstance(expected, ApiError), f"{kind}: the server accepted it"
    got = in_page(page, data, None)
    assert got.get("status") == expected.status, f"{kind}: {got} for the server's {expected.status} {expected.message}"
    if expected.message.startswith("The image is truncated"):  # the reason is the decoder's own
        assert got["message"].startswith("The image is truncated or corrupt (")
    else:
        assert got["message"] == expected.message
    if expected.status == 422:
        assert got["message"].startswith("No digit found")


# ---------------------------------------------------------------- the pieces, against numpy and Pillow

PIECES = """async ([base, v32, v64, terms, target, image, width, height, sizes, totals, counts]) => {
  const np = await import(base + 'numpy.js');
  const ink = await import(base + 'ink.js');
  const pil = await import(base + 'resample.js');
  const [a, b] = [Float32Array.from(v32), Float64Array.from(v64)];
  const low = a.reduce((x, y) => Math.min(x, y));
  const high = a.reduce((x, y) => Math.max(x, y));
  const picture = Float32Array.from(image);
  return {
    percentile: [np.percentile(np.sorted(a), 90, true), np.percentile(np.sorted(b), 90, false)],
    median: [np.median(a, true), np.median(b, false)],
    histogram: Array.from(np.histogram(a, 256, low, high, true).counts),
    otsu: [ink.otsuThreshold(a, true), ink.otsuThreshold(b, false)],
    lstsq: Array.from(np.lstsq(Float64Array.from(terms), Float64Array.from(target), target.length, 6)),
    resized: sizes.map(([w, h]) => Array.from(pil.resizeLanczos(picture, width, height, w, h))),
    max: Array.from(pil.rankFilter(picture, width, height, 5, true)),
    min: Array.from(pil.rankFilter(picture, width, height, 3, false)),
    reduced: totals.map((total, i) => pil.reduce8(total, counts[i])),
  };
}"""


def test_the_pieces_compute_what_numpy_and_pillow_do(page):
    """Percentile, median, histogram, Otsu's threshold and least squares as numpy computes them
    (float32 and float64, values on the bins' edges included); LANCZOS resizing up and down,
    MaxFilter, MinFilter and reduce()'s rounding as Pillow does."""
    rng = np.random.default_rng(5)
    v32 = np.concatenate([rng.integers(0, 256, 600) / 255, rng.random(401) ** 3]).astype(np.float32)
    v64 = rng.normal(0.3, 0.1, 1000)
    x, y = rng.uniform(-0.5, 0.5, (2, 300))
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)
    target = 0.6 + 0.2 * x - 0.1 * y * y + rng.normal(0, 0.01, 300)
    image = (rng.random((23, 31)) * (rng.random((23, 31)) > 0.6)).astype(np.float32)
    sizes = [(9, 7), (31, 5), (20, 23), (64, 47)]
    grey = rng.integers(0, 256, (41, 37)).astype(np.uint8)
    factor = 4
    padded = np.pad(grey.astype(np.int64), ((0, -41 % factor), (0, -37 % factor)))
    totals = padded.reshape(11, factor, 10, factor).sum(axis=(1, 3))
    counts = np.outer(np.minimum(factor, 41 - factor * np.arange(11)), np.minimum(factor, 37 - factor * np.arange(10)))
    got = page.evaluate(PIECES, ["/static/engines/browser/upload/", v32.tolist(), v64.tolist(), terms.ravel().tolist(),
                                 target.tolist(), image.ravel().tolist(), 31, 23, sizes, totals.ravel().tolist(),
                                 counts.ravel().tolist()])
    assert got["percentile"] == [float(np.percentile(v32, 90)), float(np.percentile(v64, 90))]
    assert got["median"] == [float(np.median(v32)), float(np.median(v64))]
    assert got["histogram"] == np.histogram(v32, 256, range=(float(v32.min()), float(v32.max())))[0].tolist()
    assert got["otsu"] == [otsu_threshold(v32), otsu_threshold(v64)]
    assert np.allclose(got["lstsq"], np.linalg.lstsq(terms, target, rcond=None)[0], rtol=0, atol=1e-12)
    picture = Image.fromarray(image)
    for (w, h), resized in zip(sizes, got["resized"]):
        expected = np.asarray(picture.resize((w, h), Image.Resampling.LANCZOS)).ravel()
        assert np.abs(np.asarray(resized, np.float32) - expected).max() <= 1e-6, (w, h)
    assert got["max"] == np.asarray(picture.filter(ImageFilter.MaxFilter(5))).ravel().tolist()
    assert got["min"] == np.asarray(picture.filter(ImageFilter.MinFilter(3))).ravel().tolist()
    assert got["reduced"] == np.asarray(Image.fromarray(grey).reduce(factor)).ravel().tolist()
