"""Turn any digit image (upload, photo, canvas drawing) into MNIST-like 28x28 input.

MNIST was made by fitting each digit, anti-aliased and with its aspect ratio kept, into a
20x20 box and centring its centre of mass in a 28x28 field, light ink on black. One
function, `to_mnist`, does the same for every input the server accepts. Uploads are first
decoded to a small grey image (app/uploads/decode.py); the ink is then measured from the ink itself,
never from the image's area: a thin pen on a big page and a bold digit filling its frame
come out alike.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from app.errors import ApiError
from app.uploads.decode import block_mean, decode_grey, grey_from_image
from model.spec import IMAGE_SHAPE, PAIR_SHAPE

BOX, FIELD = 20, IMAGE_SHAPE[0]
# A MultiMNIST pair: two 20-pixel digits, each shifted 0..8 pixels, span 20 + |shift a - shift b|
# pixels along an axis (3 on average): fitted into 24 and centred by mass in the 36x36 canvas.
PAIR_BOX, PAIR_FIELD = 24, PAIR_SHAPE[0]
WORKING_SIDE = 160  # ink is cropped and normalised at this resolution, then fitted into the box
MNIST_STROKE = 2.4  # typical MNIST stroke width, in pixels of the 20x20 box
MIN_CONTRAST = 0.08  # ink closer than this to the paper's level is not a digit
MIN_SIGNAL = 8.0  # ... nor ink less than this many noise deviations above it
MIN_EXTENT = 8  # pixels the ink must span, at the working grid's scale
SPECK = 0.002  # share of the ink's mass cut from each side when cropping: dust, not digit
LIGHT_WINDOW = 7  # a block's paper is the lowest of the 7x7 blocks around it (32 span the image)
QUANTUM = 1.0 / (255 * np.sqrt(12))  # an 8-bit image's rounding noise: no paper is smoother
MODE_SAMPLES = 1 << 16  # at most this many values (every k-th) are sorted to find the paper's level
NO_DIGIT = "No digit found in the image: {}. Send a darker or larger digit."


def dark_ink(gray: np.ndarray) -> bool:
    """The paper surrounds the digit, so the border's median is the paper (even for a bold digit
    that covers most of the image); the ink lies on the side farther from it: a grey page with
    dark ink, or a black canvas with white strokes."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    values = gray.ravel()
    extreme = min(9, values.size // 2)  # the tenth darkest and lightest: a blot outweighs a hot pixel
    darkest = float(np.partition(values, extreme)[extreme])
    lightest = float(np.partition(values, -1 - extreme)[-1 - extreme])
    return paper - darkest > lightest - paper


def background_light(gray: np.ndarray) -> np.ndarray | float:
    """The paper's level under uneven light: a quadratic surface fitted to the paper alone
    (about 32x32 block means). A first fit to every block takes out most of the light; blocks
    that then rise well above the lowest block near them (Otsu's threshold on the rise) are
    strokes or their soft grey edges, which light never makes, so a soft digit filling its
    frame cannot bend the surface. Of the rest, those below Otsu's threshold on the residual
    are the paper (four rounds): a stroke wider than the neighbourhood is dropped there."""
    height, width = gray.shape
    if max(height, width) < 64:  # already digit-sized, e.g. MNIST itself
        return 0.0
    step = int(np.ceil(max(height, width) / 32))
    grid = block_mean(gray, step)
    small = grid.ravel()
    side = float(max(height, width))
    rows, cols = np.divmod(np.arange(small.size), grid.shape[1])
    y, x = ((rows + 0.5) * step - height / 2) / side, ((cols + 0.5) * step - width / 2) / side
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)
    rough = small - terms @ np.linalg.lstsq(terms, small, rcond=None)[0]
    rise = rough - local_minimum(rough.reshape(grid.shape), LIGHT_WINDOW).ravel()
    candidates = rise < otsu_threshold(rise)
    if candidates.sum() < 2 * terms.shape[1]:  # no paper to measure the light on: one level
        return 0.0
    paper = candidates
    for _ in range(4):
        coefficients = np.linalg.lstsq(terms[paper], small[paper], rcond=None)[0]
        residual = small - terms @ coefficients
        below = candidates & (residual < otsu_threshold(residual[candidates]))
        if below.sum() < 2 * terms.shape[1]:
            break
        paper = below
    c = coefficients.astype(np.float32)
    y = (np.arange(height, dtype=np.float32) + 0.5 - height / 2) / side
    x = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / side
    return ((c[0] + c[2] * y + c[5] * y * y)[:, None] + (c[1] * x + c[3] * x * x)[None, :]
            + c[4] * y[:, None] * x[None, :])


def local_minimum(grid: np.ndarray, size: int) -> np.ndarray:
    """Each cell's minimum over the size x size cells around it (the edge cells repeated)."""
    padded = np.pad(grid, size // 2, mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, (size, size)).min(axis=(2, 3))


def paper_level(values: np.ndarray) -> tuple[float, float]:
    """Level and noise of the paper among values on its side of the ink (light ink positive).

    Soft ink's grey edges share that side but spread thinly over many levels, while the paper
    crowds around one: its level is the densest point (half-sample mode), its noise the spread
    of the values below that level, where no ink reaches (a median and MAD would count the
    grey edges, and a digit filling its frame would look like noise)."""
    stride = -(-values.size // MODE_SAMPLES)  # rounded up
    ordered = np.sort(values[::stride])
    densest = ordered
    while densest.size > 3:  # the shortest run holding half the values, halved again
        half = (densest.size + 1) // 2
        start = int(np.argmin(densest[half - 1:] - densest[:densest.size - half + 1]))
        densest = densest[start:start + half]
    level = float(densest.mean())
    below = ordered[:np.searchsorted(ordered, level, side="right")]
    return level, max(1.4826 * (level - float(np.median(below))), QUANTUM)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Light ink on black: paper exactly 0, the ink's typical peak 1 (dark-on-light is inverted).

    Otsu's threshold splits ink from paper; the paper's densest level and the spread below it
    give its level and noise, the ink's 90th percentile its peak. Raises a 422 when there is no
    digit to see."""
    dark = dark_ink(gray)
    if dark:
        gray = 1.0 - gray
    light = background_light(gray)
    residual = gray - light
    if dark:  # ink on paper reflects a share of the light: measure it against the paper's brightness
        residual = residual / np.maximum(1.0 - light, 0.05)
    threshold = otsu_threshold(residual)
    paper, ink = residual[residual < threshold], residual[residual >= threshold]
    if paper.size == 0 or ink.size == 0:
        raise ApiError(NO_DIGIT.format("the image is uniform"), 422)
    level, noise = paper_level(paper)
    peak = float(np.percentile(ink, 90))
    contrast = peak - level
    if contrast < max(MIN_CONTRAST, MIN_SIGNAL * noise):
        raise ApiError(NO_DIGIT.format(f"the darkest marks differ from the paper by {contrast:.0%}, "
                                       f"its noise is {noise:.1%}"), 422)
    floor = level + max(4.0 * noise, 0.25 * contrast)  # anti-aliased edges stay, grain goes
    return np.clip((residual - floor) / (peak - floor), 0.0, 1.0)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """The level that best separates two classes of values (Otsu, 1979)."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return high
    histogram, edges = np.histogram(values, bins=bins, range=(low, high))
    weight = np.cumsum(histogram)[:-1].astype(np.float64)
    mean = np.cumsum(histogram * (edges[:-1] + edges[1:]) / 2)[:-1]
    total, total_mean = float(histogram.sum()), float((histogram * (edges[:-1] + edges[1:]) / 2).sum())
    foreground = total - weight
    valid = (weight > 0) & (foreground > 0)
    between = np.zeros_like(weight)
    mu_b, mu_f = mean[valid] / weight[valid], (total_mean - mean[valid]) / foreground[valid]
    between[valid] = weight[valid] * foreground[valid] * (mu_b - mu_f) ** 2
    return float(edges[1 + np.argmax(between)]) if valid.any() else high


def ink_bounds(profile: np.ndarray, trim: float = SPECK) -> tuple[int, int]:
    """First and one-past-last index of the ink: where its mass lies, less `trim` of it on each
    side, then widened again to every row or column joined to that span (a stroke's tip is kept,
    a speck beyond empty paper is not)."""
    cumulative = np.cumsum(profile)
    total = float(cumulative[-1])
    start = int(np.searchsorted(cumulative, trim * total, side="right"))
    end = int(np.searchsorted(cumulative, (1.0 - trim) * total, side="left")) + 1
    empty = np.flatnonzero(profile <= 0)
    start = int(empty[empty < start].max(initial=-1)) + 1
    end = int(empty[empty >= end].min(initial=profile.size))
    return start, max(end, start + 1)


def crop_to_ink(ink: np.ndarray, level: float = 0.1, trim: float = SPECK) -> np.ndarray:
    visible = np.where(ink > level, ink, 0.0)
    top, bottom = ink_bounds(visible.sum(axis=1), trim)
    left, right = ink_bounds(visible.sum(axis=0), trim)
    return ink[top:bottom, left:right]


def shrink_keeping_strokes(ink: np.ndarray, side: int = WORKING_SIDE) -> np.ndarray:
    """At most `side` pixels a side by taking each block's maximum: a hairline that an average
    would fade survives (its width is set to MNIST's pen afterwards)."""
    factor = int(np.ceil(max(ink.shape) / side))
    if factor <= 1:
        return ink
    height, width = ink.shape
    padded = np.pad(ink, ((0, -height % factor), (0, -width % factor)))
    return padded.reshape(padded.shape[0] // factor, factor, -1, factor).max(axis=(1, 3))


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


def normalise_stroke(ink: np.ndarray, box: int = BOX) -> np.ndarray:
    """Thicken hairlines and thin out markers to MNIST's pen, measured at the final scale (the
    ink's longer side fitted into `box` pixels)."""
    target = MNIST_STROKE * max(ink.shape) / box
    width = stroke_width(ink)
    if width == 0:
        return ink
    size = round(abs(target - width)) | 1  # odd filter sizes only
    if width < 0.6 * target and size >= 3:
        padded = np.pad(ink, size)  # room for the stroke to grow past the crop
        grown = np.asarray(Image.fromarray(padded.astype(np.float32)).filter(ImageFilter.MaxFilter(size)))
        return crop_to_ink(grown, trim=0.0)
    # A square filter thins a diagonal stroke sqrt(2) times more: keep half of any stroke.
    size = min(size, int(width / (2 * np.sqrt(2))) | 1)
    if width > 1.8 * target and size >= 3:
        padded = np.pad(ink, size)  # paper around the crop: strokes along its edge thin too
        thinned = np.asarray(Image.fromarray(padded.astype(np.float32)).filter(ImageFilter.MinFilter(size)))
        return crop_to_ink(thinned, trim=0.0)
    return ink


def centre_by_mass(digit: np.ndarray, side: int = FIELD) -> np.ndarray:
    """Place a digit of at most 20x20 in 28x28 (side x side) with its centre of mass in the middle."""
    height, width = digit.shape
    total = float(digit.sum())
    rows, cols = np.indices(digit.shape)
    centre_row = float((rows * digit).sum() / total) if total else (height - 1) / 2
    centre_col = float((cols * digit).sum() / total) if total else (width - 1) / 2
    middle = side / 2  # where MNIST itself puts the centre of mass (measured: 14.0, 14.0)
    top = int(np.clip(round(middle - centre_row), 0, side - height))
    left = int(np.clip(round(middle - centre_col), 0, side - width))
    field = np.zeros((side, side), dtype=np.float32)
    field[top:top + height, left:left + width] = digit
    return field


def gray_to_mnist(gray: np.ndarray, box: int = BOX, side: int = FIELD) -> np.ndarray:
    """A grey image (float 0..1, at most about a megapixel) -> float32 (28, 28) as MNIST: the ink
    fitted into box x box, centred by mass in side x side (a pair: PAIR_BOX, PAIR_FIELD)."""
    ink = crop_to_ink(ink_map(gray))
    if max(ink.shape) < MIN_EXTENT:
        raise ApiError(NO_DIGIT.format(f"the only marks span {max(ink.shape)} of {max(gray.shape)} pixels"), 422)
    ink = normalise_stroke(shrink_keeping_strokes(ink), box)
    height, width = ink.shape
    fit = box / max(height, width)
    digit = np.clip(resize(ink, round(width * fit), round(height * fit)), 0.0, 1.0)
    peak = float(digit.max())
    return centre_by_mass(digit / peak if peak > 0 else digit, side)


def to_mnist(image: Image.Image) -> np.ndarray:
    """Any decoded image of a digit -> float32 (28, 28) in 0..1, light ink on black, as MNIST."""
    return gray_to_mnist(grey_from_image(image))


def image_bytes_to_mnist(data: bytes) -> np.ndarray:
    return gray_to_mnist(decode_grey(data))


def image_bytes_to_pair(data: bytes) -> np.ndarray:
    """An image of two overlapping digits -> float32 (36, 36), sized like a MultiMNIST pair."""
    return gray_to_mnist(decode_grey(data), PAIR_BOX, PAIR_FIELD)
