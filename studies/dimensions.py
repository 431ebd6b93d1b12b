"""What each of the 16 dimensions of a digit capsule does, measured:
`python -m studies.dimensions [--data PATH]`.

For each digit class and each dimension: the change in measurable properties of the
reconstruction when that dimension is moved from -0.25 to +0.25 (Figure 4's range), in units of
the property's spread among that class's reconstructions; and the correlation of the dimension
with the same properties of the input digits over the class's test digits. A dimension is
labelled with a property only where both agree clearly: |r| >= THRESHOLD for that property,
and the perturbation moves it in the same direction. Writes results/dimensions.json.
"""
from __future__ import annotations

import time

import keras
import numpy as np

from datasets.mnist import to_model_input
from model.forward import compiled_forward, in_batches
from model.spec import IMAGE_SHAPE, NUM_CLASSES, PERTURBATION
from studies import cli

STUDY = cli.study("dimensions")
THRESHOLD = 0.5  # |r| over the class's test digits
PROPERTIES = {
    "ink": "total ink (stroke thickness x length)",
    "width": "4 x the horizontal standard deviation of the ink, pixels",
    "height": "4 x the vertical standard deviation of the ink, pixels",
    "slant": "horizontal shift per pixel upwards, from second moments (positive: leans right)",
    "centre_x": "centre of mass, pixels from the left",
    "centre_y": "centre of mass, pixels from the top",
}


def image_properties(images: np.ndarray) -> dict[str, np.ndarray]:
    """(n, h, w) in 0..1 -> each property of PROPERTIES, (n,), from the image moments."""
    images = np.asarray(images, np.float64)
    _, height, width = images.shape
    ys, xs = np.mgrid[0:height, 0:width]
    mass = np.maximum(images.sum(axis=(1, 2)), 1e-9)
    cx = (images * xs).sum(axis=(1, 2)) / mass
    cy = (images * ys).sum(axis=(1, 2)) / mass
    dx, dy = xs[None] - cx[:, None, None], ys[None] - cy[:, None, None]
    mu20, mu02 = (images * dx ** 2).sum(axis=(1, 2)) / mass, (images * dy ** 2).sum(axis=(1, 2)) / mass
    mu11 = (images * dx * dy).sum(axis=(1, 2)) / mass
    return {"ink": images.sum(axis=(1, 2)), "width": 4 * np.sqrt(mu20), "height": 4 * np.sqrt(mu02),
            "slant": -mu11 / np.maximum(mu02, 1e-9), "centre_x": cx, "centre_y": cy}


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a ** 2).sum() * (b ** 2).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def label(effects: dict[str, float], correlations: dict[str, float]) -> dict:
    """The property the dimension tracks in real digits, if clearly: the largest |r|, at least
    THRESHOLD, and moving the dimension moves that property of the reconstruction the same way."""
    best = max(correlations, key=lambda name: abs(correlations[name]))
    r = correlations[best]
    if abs(r) < THRESHOLD or np.sign(effects[best]) != np.sign(r):
        return {"label": None, "text": "no single property"}
    return {"label": best, "text": f"{best}, r = {r:.2f}"}


def measure_class(model, decode, digit: int, images: np.ndarray, capsules: np.ndarray,
                  perturbed_images: int) -> list[dict]:
    """images (n, 28, 28) of one class, their digit capsule (n, 16) -> one entry per dimension."""
    inputs = image_properties(images)
    base = capsules[:perturbed_images]
    spread = {k: max(float(v.std()), 1e-6) for k, v in image_properties(decode(digit, base)).items()}
    entries = []
    for dim in range(capsules.shape[1]):
        moved = {}
        for sign in (-1, 1):
            vectors = base.copy()
            vectors[:, dim] += sign * PERTURBATION
            moved[sign] = image_properties(decode(digit, vectors))
        raw = {k: float(np.mean(moved[1][k] - moved[-1][k])) for k in PROPERTIES}
        effects = {k: raw[k] / spread[k] for k in PROPERTIES}
        correlations = {k: correlation(capsules[:, dim], inputs[k]) for k in PROPERTIES}
        entries.append({"dimension": dim, "effects": effects, "raw_effects": raw,
                        "correlations": correlations, **label(effects, correlations)})
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser(STUDY, __doc__)
    parser.add_argument("--perturbed-images", type=int, default=100,
                        help="test digits per class whose reconstructions are perturbed")
    args = parser.parse_args(argv)
    started = time.time()
    models = cli.load(STUDY)
    model, _ = models["capsnet"]
    x_test, y_test = cli.test_set(args)
    forward = compiled_forward(model, ["digit_caps", "prediction"], image_shape=IMAGE_SHAPE)
    outputs = in_batches(forward, to_model_input(x_test), 200)

    def decode(digit: int, vectors: np.ndarray) -> np.ndarray:
        capsules = np.zeros((len(vectors), NUM_CLASSES, vectors.shape[1]), np.float32)
        capsules[:, digit] = vectors
        return np.asarray(model.decode(capsules, np.full(len(vectors), digit)))[..., 0]

    classes = {}
    progress = keras.utils.Progbar(NUM_CLASSES, unit_name="class")
    for digit in range(NUM_CLASSES):
        chosen = (y_test == digit) & (outputs["prediction"] == digit)  # the capsule describes its digit
        capsules = outputs["digit_caps"][chosen, digit]
        classes[str(digit)] = {"test_digits": int(chosen.sum()), "dimensions": measure_class(
            model, decode, digit, x_test[chosen] / 255.0, capsules, args.perturbed_images)}
        progress.add(1)
    table = {"perturbation": PERTURBATION, "threshold": THRESHOLD, "properties": PROPERTIES,
             "method": f"effect: mean change of a property of the reconstruction when the dimension goes from "
                       f"-{PERTURBATION} to +{PERTURBATION} (first {args.perturbed_images} correctly classified "
                       f"test digits of the class), divided by the property's standard deviation among their "
                       f"unperturbed reconstructions. r: correlation of the dimension with the property of the "
                       f"input over all the class's correct test digits. Label: the property with the largest "
                       f"|r|, where |r| >= {THRESHOLD} and the effect has the same sign as r.",
             "classes": classes}
    output = cli.write(STUDY, table, models, args.output, started)
    labelled = sum(d["label"] is not None for c in classes.values() for d in c["dimensions"])
    print(f"{labelled} of {NUM_CLASSES * capsules.shape[1]} dimensions have a clear property; wrote {output}")


if __name__ == "__main__":
    main()
