"""The robustness command: its affNIST-like set, and a whole (small) run against direct evaluation."""
from __future__ import annotations

import json

import numpy as np
import pytest

from datasets.transforms import apply_transform
from model.checkpoint import load_model
from studies.robustness import SWEEPS, affnist_like, main, markdown
from training.tasks import task


def test_affnist_like_is_fixed_by_its_seed_and_stays_within_its_ranges():
    images = np.zeros((5, 28, 28))
    images[:, 8:20, 13:15] = 1.0
    first, again = affnist_like(images), affnist_like(images)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first[0], first[1])  # each digit its own transform
    # the parameters the seed draws: rotation within +-20 degrees, shear +-0.2, scale 0.8..1.2
    draw = np.random.default_rng(0)
    rotation, shear = draw.uniform(-20, 20, 5), draw.uniform(-0.2, 0.2, 5)
    scale_x, scale_y = draw.uniform(0.8, 1.2, 5), draw.uniform(0.8, 1.2, 5)
    expected = apply_transform(images[2], {"rotation": rotation[2], "shear": shear[2],
                                           "scale_x": scale_x[2], "scale_y": scale_y[2]})
    np.testing.assert_allclose(first[2], expected, atol=1e-5)


@pytest.mark.slow
def test_a_small_run_agrees_with_direct_evaluation(tmp_path, tiny_mnist):
    data = tiny_mnist
    output = tmp_path / "robustness.json"
    main(["--data", str(data), "--output", str(output)])
    table = json.loads(output.read_text())
    assert table["images"] == 20 and table["command"] == "python -m studies.robustness"
    assert set(table["transforms"]) == set(SWEEPS)
    with np.load(data) as tiny:
        images, labels = tiny["x_test"], tiny["y_test"]
    for model_id in ("capsnet", "cnn"):
        model, metadata = load_model(model_id)
        assert table["models"][model_id]["sha256"] == metadata["sha256"]
        direct = task(model_id).accuracy_report(model, images, labels)["accuracy"]
        for name, sweep in table["transforms"].items():
            identity = sweep["values"].index(1.0 if name == "scale" else 0)
            assert sweep[model_id][identity] == pytest.approx(direct)  # untransformed: plain accuracy
    assert markdown(json.loads(json.dumps(table))).count("\n") == 2 + sum(len(v) for v, _ in SWEEPS.values())
