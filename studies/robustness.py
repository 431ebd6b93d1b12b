"""How both committed models cope with transformed digits: `python -m studies.robustness [--data PATH]`.

Every MNIST test digit under each transform value (rotation, scale, shear, thickness) and an
affNIST-like set (each digit once with a random small affine transform), classified by the
CapsNet and by the CNN. Writes results/robustness.json.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from datasets.transforms import apply_transform, transform_each
from model.forward import compiled_forward, in_batches
from model.spec import IMAGE_SHAPE
from studies import cli

STUDY = cli.study("robustness")
# The sweeps, each value applied to every test digit; "scale" stretches both axes alike.
SWEEPS: dict[str, tuple[list[float], Callable[[float], dict[str, float]]]] = {
    "rotation": (list(range(-90, 91, 15)), lambda v: {"rotation": v}),
    "scale": ([round(0.5 + 0.1 * k, 1) for k in range(11)], lambda v: {"scale_x": v, "scale_y": v}),
    "shear": ([round(-0.5 + 0.1 * k, 1) for k in range(11)], lambda v: {"shear": v}),
    "thickness": ([-2, -1, 0, 1, 2], lambda v: {"thickness": v}),
}
AFFNIST_LIKE = {"seed": 0, "rotation": 20.0, "shear": 0.2, "scale": (0.8, 1.2)}


def affnist_like(images: np.ndarray, seed: int = AFFNIST_LIKE["seed"]) -> np.ndarray:
    """Each image once, with its own rotation in +-20 degrees, shear in +-0.2 and scale in
    0.8..1.2 per axis (uniform, fixed seed): affNIST's kind of change, kept inside 28x28."""
    rng = np.random.default_rng(seed)
    n = len(images)
    low, high = AFFNIST_LIKE["scale"]
    params = {"rotation": rng.uniform(-AFFNIST_LIKE["rotation"], AFFNIST_LIKE["rotation"], n),
              "shear": rng.uniform(-AFFNIST_LIKE["shear"], AFFNIST_LIKE["shear"], n),
              "scale_x": rng.uniform(low, high, n), "scale_y": rng.uniform(low, high, n)}
    return transform_each(images, params)


def measure(models: dict, x_test: np.ndarray, y_test: np.ndarray, batch_size: int = 250) -> dict:
    """models: {id: (model, metadata)} (cli.load); x_test uint8 (n, 28, 28), y_test (n,)."""
    images = x_test.astype(np.float32) / 255.0
    forwards = {model_id: compiled_forward(model, ["prediction"], image_shape=IMAGE_SHAPE)
                for model_id, (model, _) in models.items()}

    def accuracies(transformed: np.ndarray) -> dict[str, float]:
        return {model_id: float(np.mean(in_batches(forward, transformed[..., None], batch_size)["prediction"]
                                         == y_test))
                for model_id, forward in forwards.items()}

    settings = sum(len(values) for values, _ in SWEEPS.values()) + 1
    progress = keras.utils.Progbar(settings, unit_name="setting")
    table = {}
    for name, (values, as_transform) in SWEEPS.items():
        rows = []
        for value in values:
            rows.append(accuracies(apply_transform(images, as_transform(value))))
            progress.add(1, values=[(f"{name}", value)])
        table[name] = {"values": values, **{m: [row[m] for row in rows] for m in models}}
    affine = accuracies(affnist_like(images))
    progress.add(1)
    return {
        "images": len(y_test),
        "transforms": table,
        "affnist_like": {**affine, "seed": AFFNIST_LIKE["seed"],
                         "description": "each test digit once: rotation uniform in +-20 degrees, shear in "
                                        "+-0.2, scale 0.8..1.2 per axis, about the centre of mass, in 28x28"},
    }


def markdown(table: dict) -> str:
    """The table as the README shows it: accuracy in percent, one row per transform value."""
    lines = ["| transform | value | CapsNet | CNN |", "|---|---|---|---|"]
    for name, sweep in table["transforms"].items():
        for value, caps, cnn in zip(sweep["values"], sweep["capsnet"], sweep["cnn"]):
            lines.append(f"| {name} | {value:g} | {100 * caps:.2f}% | {100 * cnn:.2f}% |")
    affine = table["affnist_like"]
    lines.append(f"| affNIST-like | +-20 deg, shear +-0.2, scale 0.8..1.2 | {100 * affine['capsnet']:.2f}% | "
                 f"{100 * affine['cnn']:.2f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = cli.parser(STUDY, __doc__)
    parser.add_argument("--limit", type=int, help="only the first N test digits (a quick look; not for committing)")
    parser.add_argument("--markdown", action="store_true", help="print the table at --output as markdown, and stop")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.output).read_text())))
        return
    started = time.time()
    x_test, y_test = cli.test_set(args)
    if args.limit:
        x_test, y_test = x_test[:args.limit], y_test[:args.limit]
    models = cli.load(STUDY)
    table = measure(models, x_test, y_test)
    output = cli.write(STUDY, table, models, args.output, started)
    sweep = table["transforms"]["rotation"]
    print(f"rotation -45/+45: capsnet {sweep['capsnet'][3]:.4f} / {sweep['capsnet'][9]:.4f}, "
          f"cnn {sweep['cnn'][3]:.4f} / {sweep['cnn'][9]:.4f}")
    print(f"affNIST-like: capsnet {table['affnist_like']['capsnet']:.4f}, cnn {table['affnist_like']['cnn']:.4f}")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
