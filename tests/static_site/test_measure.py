"""`python -m static_site.measure` on a small test set: each exported classifier against Keras,
the table a study's (the checkpoints' sha256, the command), the pairs made as the evaluation makes
them. How answers are read (model.multimnist.longest) is tested in test_multimnist.py."""
from __future__ import annotations

import json

from static_site import measure


def test_the_exports_measured_against_keras(static_site, tiny_mnist, tmp_path):
    output = tmp_path / "static_edition.json"
    measure.main(["--data", str(tiny_mnist), "--output", str(output)])
    table = json.loads(output.read_text())
    assert table["command"] == "python -m static_site.measure" and set(table["models"]) == {"capsnet", "cnn", "multimnist"}
    assert list(table["networks"]) == ["capsnet", "cnn", "multimnist"]
    for name, entry in table["networks"].items():
        assert entry["examples"] == 20, name
        assert entry["same_answers"] >= 19, name
        assert abs(entry["accuracy"] - entry["keras_accuracy"]) <= 1 / 20, name
        assert 0 < entry["max_abs_difference"] <= 1e-2, name
    assert table["networks"]["capsnet"]["output"] == "lengths" and table["networks"]["cnn"]["output"] == "probabilities"
    assert table["networks"]["capsnet"]["accuracy"] >= 0.9  # the gallery's own digits
