"""The numbers the page's own port of this package (web/engines/browser/upload/, the static
edition's) reads from its page config, so that they are written once: in decode.py, preprocess.py
and Pillow."""
from __future__ import annotations

from PIL import Image

from app.uploads import decode, preprocess


def page_rules() -> dict:
    """{name: value} of every constant the port reads, each under its Python name."""
    names = ("ACCEPTED_FORMATS", "MAX_PIXELS", "MAX_SIDE", "DECODE_BUDGET", "WEBP_BYTES_PER_PIXEL", "STORAGE",
             "PNG_BYTES_PER_PIXEL")
    rules = {name: getattr(decode, name) for name in names}
    names = ("BOX", "FIELD", "PAIR_BOX", "PAIR_FIELD", "WORKING_SIDE", "MNIST_STROKE", "MIN_CONTRAST", "MIN_SIGNAL",
             "MIN_EXTENT", "SPECK", "LIGHT_WINDOW", "QUANTUM", "MODE_SAMPLES", "NO_DIGIT")
    rules.update({name: getattr(preprocess, name) for name in names})
    rules["PILLOW_MAX_PIXELS"] = Image.MAX_IMAGE_PIXELS  # twice this is refused when the header is read
    return {name: list(value) if isinstance(value, tuple) else value for name, value in rules.items()}
