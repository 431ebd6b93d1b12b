"""Image files as uploads arrive: encoded in any format, a digit on a big page, a decompression
bomb's header; the hard cases of the preprocessing (a pen on a big page, a shaded noisy photo,
almost empty pages, soft digits filling their frame), shared by the Python and the page's tests."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from support.digits import SAMPLE


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


# ---------------------------------------------------------------- the ink, whatever the image's area

SEVEN = [(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]  # a "7" as a polyline, in units of the short side


def seven(width: int, height: int, pen: int, paper: int = 235, ink: int = 30) -> Image.Image:
    page = Image.new("L", (width, height), paper)
    side = min(width, height)
    points = [(x * side + (width - side) / 2, y * side + (height - side) / 2) for x, y in SEVEN]
    ImageDraw.Draw(page).line(points, fill=ink, width=pen, joint="curve")
    return page


def photo_of_seven(width: int, height: int, pen: int, seed: int = 1) -> bytes:
    """A JPEG like a phone photo: light falling from 220 to 110 across the page, darker corners,
    sensor noise, and ink that reflects a quarter of the light that reaches it."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 110 + 110 * cols / width - 40 * ((rows / height - 0.5) ** 2 + (cols / width - 0.5) ** 2)
    ink = np.asarray(seven(width, height, pen, paper=0, ink=255), np.float32) / 255
    page = light * (1 - 0.75 * ink) + rng.normal(0, 8, (height, width))
    return encode(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)), "JPEG", quality=85)


def shaded_page(width: int, height: int, low: float = 150, high: float = 230, noise: float = 4,
                seed: int = 2) -> Image.Image:
    light = np.linspace(low, high, width)[None, :] + np.random.default_rng(seed).normal(0, noise, (height, width))
    return Image.fromarray(np.clip(light, 0, 255).astype(np.uint8))


def almost_empty(kind: str) -> Image.Image:
    page = shaded_page(800, 600, 200, 200, 3)
    if kind == "uniform":
        return Image.new("L", (640, 480), 255)
    if kind == "speck":  # a 5x5 blot on clean paper: clear contrast, but nothing a digit's size
        page = Image.new("L", (800, 600), 230)
        ImageDraw.Draw(page).rectangle([400, 300, 404, 304], fill=20)
    if kind == "smudge":  # a faint shadow, 2% darker than the paper
        ImageDraw.Draw(page).ellipse([300, 200, 500, 400], fill=195)
    return page


# ---------------------------------------------------------------- digits filling their frame (issue #19)

SIZES = (16, 20, 24, 32, 48, 64, 200, 300, 400)  # pixels the digit's ink spans, before blurring
BLURS = (0.0, 0.5, 1.0)  # Gaussian radius, in MNIST pixels
CUTS = (0.05, 0.25, 0.5)  # the crop keeps what is darker than this share of the ink's peak
PAD = 6  # MNIST pixels of paper around the digit before cropping: room for the blur and margins


def soft_digit(digit: np.ndarray, size: int, blur: float) -> tuple[np.ndarray, float]:
    """A 28x28 digit scaled up bilinearly so that its ink spans `size` pixels, then blurred:
    ink 0..1 (paper 0), and the scale in pixels per MNIST pixel."""
    digit = np.pad(digit, PAD)
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    scale = size / int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))
    side = round(digit.shape[0] * scale)
    soft = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    if blur:
        soft = soft.filter(ImageFilter.GaussianBlur(blur * scale))
    return np.asarray(soft, np.float32) / 255.0, scale


def crop_tight(ink: np.ndarray, cut: float, margins: list[int]) -> np.ndarray:
    """The box of what is darker than `cut` of the peak, widened by `margins` (top, bottom, left,
    right): a side with no margin has the ink touching it."""
    rows = np.flatnonzero((ink > cut * ink.max()).any(axis=1))
    cols = np.flatnonzero((ink > cut * ink.max()).any(axis=0))
    top, bottom, left, right = margins
    return ink[max(rows[0] - top, 0):rows[-1] + 1 + bottom, max(cols[0] - left, 0):cols[-1] + 1 + right]


def tight_digits(count: int = 300, seed: int = 19) -> list[tuple[bytes, int, str]]:
    """(upload, label, kind) for `count` real MNIST test digits: every size and blur, the ink
    touching one, two or all four edges (a small margin on the others), dark on light or light
    on dark, as 8-bit grey PNG and, one in five, JPEG."""
    data = np.load(SAMPLE)
    rng = np.random.default_rng(seed)
    uploads = []
    for i in range(count):
        k = int(rng.integers(len(data["y_test"])))
        size, blur = SIZES[i % len(SIZES)], BLURS[i // len(SIZES) % len(BLURS)]
        ink, scale = soft_digit(data["x_test"][k], size, blur)
        cut, touching = float(rng.choice(CUTS)), int(rng.choice([1, 2, 4]))
        sides = rng.permutation(4)[:touching]
        margins = [0 if side in sides else round(rng.uniform(0.5, 3) * scale) for side in range(4)]
        ink = crop_tight(ink, cut, margins)
        dark = bool(rng.random() < 0.5)
        paper, pen = (rng.uniform(200, 245), rng.uniform(20, 60)) if dark else (rng.uniform(10, 50), rng.uniform(200, 245))
        image = Image.fromarray(np.clip(np.round(paper + (pen - paper) * ink), 0, 255).astype(np.uint8))
        fmt = "JPEG" if i % 5 == 4 else "PNG"
        buffer = io.BytesIO()
        image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        kind = (f"a {data['y_test'][k]} {ink.shape[1]}x{ink.shape[0]} blur {blur} cut at {cut} touching {touching} "
                f"{'dark on light' if dark else 'light on dark'} {fmt}")
        uploads.append((buffer.getvalue(), int(data["y_test"][k]), kind))
    return uploads
