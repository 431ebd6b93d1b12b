"""Turn any digit image (upload, photo, canvas drawing) into MNIST-like 28x28 input.

MNIST was made by fitting each digit, anti-aliased and with its aspect ratio kept, into a
20x20 box and centring its centre of mass in a 28x28 field, light ink on black. One
function, `to_mnist`, does the same for every input the server accepts.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from app.errors import ApiError

ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
MAX_PIXELS = 24_000_000  # a 6000x4000 photo; more is refused before decoding
BOX, FIELD = 20, 28
WORKING_SIDE = 160  # ink is cropped and normalised at this resolution, then fitted into the box
MNIST_STROKE = 2.4  # typical MNIST stroke width, in pixels of the 20x20 box
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb check, as a second line


def open_image(data: bytes) -> Image.Image:
    """Decode an upload safely: known formats only, pixel count checked before decoding."""
    if not data:
        raise ApiError("The image file is empty.", 400)
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as error:
        raise ApiError(f"Image has too many pixels ({error}).", 413) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ApiError("The file is not an image in a supported format "
                       f"({', '.join(ACCEPTED_FORMATS)}).", 415) from error
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ApiError(f"Image is {width}x{height} pixels: at most {MAX_PIXELS:,} are accepted.", 413)
    if width < 1 or height < 1:
        raise ApiError("Image has no pixels.", 422)
    try:
        image.seek(0)  # first frame of an animation
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ApiError(f"The image is truncated or corrupt ({error}).", 400) from error
    except Image.DecompressionBombError as error:
        raise ApiError(f"Image has too many pixels ({error}).", 413) from error
    return image


def grayscale(image: Image.Image) -> np.ndarray:
    """Any mode and bit depth -> float32 (h, w) in 0..1; transparency over a contrasting background."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if values.max() > 255 else 255.0
        return np.clip(values / top, 0.0, 1.0) if image.mode != "F" else _unit_range(values)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if alpha.min() >= 1.0:
        return luminance
    # A canvas export: strokes opaque, background transparent. Put the strokes on the
    # colour they stand out from, so black-on-transparent and white-on-transparent both work.
    ink_luminance = float((luminance * alpha).sum() / max(alpha.sum(), 1e-6))
    background = 1.0 if ink_luminance < 0.5 else 0.0
    return alpha * luminance + (1.0 - alpha) * background


def _unit_range(values: np.ndarray) -> np.ndarray:
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    return np.zeros_like(values) if high <= low else (values - low) / (high - low)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Light ink on black, background exactly 0, strongest ink 1 (dark-on-light is inverted)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        gray, background = 1.0 - gray, 1.0 - background
    ink = subtract_uneven_light(gray - background)
    peak = float(np.percentile(ink, 99.9))
    if peak < 0.08:  # no visible ink: a blank canvas or a flat photo
        return np.zeros_like(gray)
    ink = np.clip(ink / peak, 0.0, 1.0)
    # Paper texture, JPEG noise and uneven light sit well below the ink: remove them.
    floor = min(0.5 * otsu_threshold(ink), 0.35)
    return np.clip((ink - floor) / (1.0 - floor), 0.0, 1.0)


def subtract_uneven_light(ink: np.ndarray, grid: int = 4) -> np.ndarray:
    """Remove a slowly varying background (shade across a photo): the darkest level of each
    cell of a coarse grid, interpolated. Cells are far wider than any stroke, so ink stays."""
    height, width = ink.shape
    if max(height, width) < 64:  # already digit-sized, e.g. MNIST itself
        return ink
    cell = int(np.ceil(max(height, width) / grid))
    padded = np.pad(ink, ((0, -height % cell), (0, -width % cell)), mode="edge")
    floor = padded.reshape(padded.shape[0] // cell, cell, padded.shape[1] // cell, cell).min(axis=(1, 3))
    background = np.asarray(Image.fromarray(floor.astype(np.float32)).resize(
        (padded.shape[1], padded.shape[0]), Image.Resampling.BILINEAR))[:height, :width]
    return ink - np.maximum(background, 0.0)


def otsu_threshold(values: np.ndarray) -> float:
    """The level that best separates two classes of values (Otsu, 1979)."""
    histogram, edges = np.histogram(values, bins=64, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(histogram)
    mean = np.cumsum(histogram * centres)
    total, total_mean = weight[-1], mean[-1]
    background, foreground = weight, total - weight
    valid = (background > 0) & (foreground > 0)
    between = np.zeros_like(centres)
    mu_b = mean[valid] / background[valid]
    mu_f = (total_mean - mean[valid]) / foreground[valid]
    between[valid] = background[valid] * foreground[valid] * (mu_b - mu_f) ** 2
    return float(centres[np.argmax(between)]) if valid.any() else 0.5


def crop_to_ink(ink: np.ndarray, level: float = 0.1) -> np.ndarray:
    rows = np.flatnonzero((ink > level).any(axis=1))
    cols = np.flatnonzero((ink > level).any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def resize(ink: np.ndarray, width: int, height: int) -> np.ndarray:
    image = Image.fromarray(ink.astype(np.float32))
    return np.asarray(image.resize((max(width, 1), max(height, 1)), Image.Resampling.LANCZOS))


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width: area over half the boundary length (a stroke has two edges)."""
    mask = ink > 0.5
    area = int(mask.sum())
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    interior = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    boundary = max(int((mask & ~interior).sum()), 1)
    return 2.0 * area / boundary


def normalise_stroke(ink: np.ndarray) -> np.ndarray:
    """Thicken hairlines and thin out markers to MNIST's pen, measured at the final scale."""
    target = MNIST_STROKE * max(ink.shape) / BOX
    width = stroke_width(ink)
    if width == 0:
        return ink
    size = int(round(abs(target - width))) | 1  # odd filter sizes only
    if width < 0.6 * target and size >= 3:
        padded = np.pad(ink, size)  # room for the stroke to grow past the crop
        return crop_to_ink(np.asarray(Image.fromarray(padded.astype(np.float32)).filter(ImageFilter.MaxFilter(size))))
    if width > 1.8 * target and size >= 3:
        size = min(size, int(width) // 2 * 2 - 1)  # never erase a stroke
        return crop_to_ink(np.asarray(Image.fromarray(ink.astype(np.float32)).filter(ImageFilter.MinFilter(size))))
    return ink


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place a digit of at most 20x20 in 28x28 with its centre of mass in the middle."""
    height, width = digit.shape
    total = float(digit.sum())
    rows, cols = np.indices(digit.shape)
    centre_row = float((rows * digit).sum() / total) if total else (height - 1) / 2
    centre_col = float((cols * digit).sum() / total) if total else (width - 1) / 2
    middle = FIELD / 2  # where MNIST itself puts the centre of mass (measured: 14.0, 14.0)
    top = int(np.clip(round(middle - centre_row), 0, FIELD - height))
    left = int(np.clip(round(middle - centre_col), 0, FIELD - width))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top:top + height, left:left + width] = digit
    return field


def to_mnist(image: Image.Image) -> np.ndarray:
    """Any image of a digit -> float32 (28, 28) in 0..1, light ink on black, as MNIST."""
    ink = ink_map(grayscale(image))
    if not ink.any():
        return np.zeros((FIELD, FIELD), dtype=np.float32)
    ink = crop_to_ink(ink)
    scale = WORKING_SIDE / max(ink.shape)
    if scale < 1:  # work at a bounded size: filters on a 24-megapixel photo would be slow
        ink = np.clip(resize(ink, round(ink.shape[1] * scale), round(ink.shape[0] * scale)), 0, 1)
    ink = normalise_stroke(ink)
    height, width = ink.shape
    fit = BOX / max(height, width)
    digit = np.clip(resize(ink, round(width * fit), round(height * fit)), 0.0, 1.0)
    peak = float(digit.max())
    return centre_by_mass(digit / peak if peak > 0 else digit)


def image_bytes_to_mnist(data: bytes) -> np.ndarray:
    return to_mnist(open_image(data))
