"""The claims endpoints: the CNN beside the CapsNet, transforms, sweeps, the robustness table."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from app.http.schemas import CompareResponse, ModelsResponse, RobustnessResponse, TransformSweepResponse
from datasets.transforms import apply_transform
from support.digits import PROJECT_ROOT, gallery_digit


def pixels(label: int, index: int = 0) -> list:
    return (gallery_digit(label, index) / 255.0).tolist()


def test_models_lists_every_model_with_its_verified_hash(client):
    from model.checkpoint import sha256_of
    body = client.get("/api/models").get_json()
    ModelsResponse.model_validate(body)
    assert [m["id"] for m in body] == ["capsnet", "cnn", "multimnist"]
    for entry in body:
        assert entry["sha256"] == sha256_of(PROJECT_ROOT / "checkpoints" / f"{entry['id']}.weights.h5")
    assert all(entry["test_accuracy"] >= 0.993 for entry in body if entry["test_unit"] == "images")
    assert body[0]["parameters"] == 8_215_568


def test_compare_answers_are_the_models_own_outputs(app, client):
    transform = {"rotation": 25.0, "thickness": 0.5, "dx": -1.5}
    body = client.post("/api/compare", json={"pixels": pixels(4), "transform": transform}).get_json()
    CompareResponse.model_validate(body)
    expected_input = apply_transform(np.array(pixels(4)), transform)
    np.testing.assert_allclose(body["input"], expected_input, atol=1e-5)
    # the CNN, called directly (eager Keras, no service in between), on the same transformed input
    cnn = app.extensions["models"]["cnn"].model
    direct = np.asarray(cnn(expected_input[None, ..., None].astype(np.float32))["probabilities"])[0]
    np.testing.assert_allclose(body["cnn"]["probabilities"], direct, atol=1e-4)
    assert body["cnn"]["prediction"] == int(np.argmax(direct))
    # the CapsNet's lengths are what /api/analyze gives for the transformed pixels
    analysis = client.post("/api/analyze", json={"pixels": body["input"]}).get_json()
    np.testing.assert_allclose(body["capsnet"]["lengths"], analysis["digit_caps"]["lengths"], atol=1e-4)
    np.testing.assert_allclose(body["capsnet"]["vectors"], analysis["digit_caps"]["vectors"], atol=1e-4)


@pytest.mark.parametrize("label", [0, 3, 7])
def test_both_models_recognise_untransformed_gallery_digits(client, label):
    body = client.post("/api/compare", json={"pixels": pixels(label)}).get_json()
    assert body["capsnet"]["prediction"] == body["cnn"]["prediction"] == label
    np.testing.assert_allclose(body["input"], pixels(label), atol=1e-5)


def test_compare_takes_uploads_with_transform_fields(client):
    buffer = io.BytesIO()
    Image.fromarray(gallery_digit(2)).save(buffer, "PNG")
    response = client.post("/api/compare", data={"image": (io.BytesIO(buffer.getvalue()), "d.png"),
                                                  "rotation": "90"}, content_type="multipart/form-data")
    assert response.status_code == 200
    upright = client.post("/api/compare", data={"image": (io.BytesIO(buffer.getvalue()), "d.png")},
                          content_type="multipart/form-data").get_json()
    turned = np.array(response.get_json()["input"])
    assert np.abs(turned - np.array(upright["input"])).max() > 0.5  # it was rotated
    np.testing.assert_allclose(turned, apply_transform(np.array(upright["input"]), {"rotation": 90}), atol=1e-5)


def test_transform_sweep_steps_equal_single_comparisons(client):
    values = [-60.0, 0.0, 45.0]
    held = {"scale_x": 1.2, "rotation": 170.0}  # rotation is the swept one: its held value is ignored
    body = client.post("/api/transform-sweep", json={"pixels": pixels(5), "parameter": "rotation",
                                                     "values": values, "transform": held}).get_json()
    TransformSweepResponse.model_validate(body)
    assert body["parameter"] == "rotation" and body["values"] == values and len(body["steps"]) == 3
    assert body["digit"] == 5  # default: the CapsNet's prediction on the untransformed input
    for value, step in zip(values, body["steps"]):
        single = client.post("/api/compare", json={"pixels": pixels(5),
                                                   "transform": {"scale_x": 1.2, "rotation": value}}).get_json()
        np.testing.assert_allclose(step["input"], single["input"], atol=1e-5)
        np.testing.assert_allclose(step["capsnet_lengths"], single["capsnet"]["lengths"], atol=1e-4)
        np.testing.assert_allclose(step["capsule"], single["capsnet"]["vectors"][5], atol=1e-4)
        np.testing.assert_allclose(step["cnn_probabilities"], single["cnn"]["probabilities"], atol=1e-4)


def test_transform_sweep_is_one_batched_pass_per_model(app, client):
    services = app.extensions["models"]
    before = {name: s.forward_passes for name, s in services.items()}
    body = client.post("/api/transform-sweep", json={"pixels": pixels(1, 1), "parameter": "shear",
                                                     "values": np.linspace(-0.5, 0.5, 41).tolist(),
                                                     "digit": 7}).get_json()
    assert len(body["steps"]) == 41 and body["digit"] == 7
    assert {name: s.forward_passes - before[name] for name, s in services.items()} == {
        "capsnet": 1, "cnn": 1, "multimnist": 0}


@pytest.mark.parametrize("body,field", [
    ({"transform": {"rotation": 181}}, "rotation"),
    ({"transform": {"scale_x": 0.4}}, "scale_x"),
    ({"transform": {"shear": -0.6}}, "shear"),
    ({"transform": {"dy": 11}}, "dy"),
    ({"transform": {"thickness": 2.5}}, "thickness"),
    ({"transform": {"zoom": 1}}, "zoom"),
    ({"transform": {"rotation": "NaN"}}, "rotation"),
    ({"transform": {"dy": True}}, "dy"),  # a boolean is not a number (JSON Schema agrees)
    ({"transform": {"shear": "0.1"}}, "shear"),
])
def test_out_of_range_transforms_get_a_422_naming_field_and_range(client, body, field):
    response = client.post("/api/compare", json={"pixels": pixels(0), **body})
    assert response.status_code == 422
    assert field in response.get_json()["error"]


@pytest.mark.parametrize("body", [
    {"parameter": "rotation", "values": []},
    {"parameter": "rotation", "values": list(range(42))},
    {"parameter": "rotation", "values": [200]},
    {"parameter": "spin", "values": [1]},
    {"parameter": "dx", "values": [1], "digit": 10},
    {"parameter": "dx", "values": [True]},
    {"values": [1]},
])
def test_bad_sweeps_get_a_422(client, body):
    response = client.post("/api/transform-sweep", json={"pixels": pixels(0), **body})
    assert response.status_code == 422 and response.get_json()["error"]


def test_robustness_table_matches_the_served_checkpoints(client):
    response = client.get("/api/robustness")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    RobustnessResponse.model_validate(body)
    models = client.get("/api/models").get_json()
    served = {m["id"]: m["sha256"] for m in models}
    assert {k: served[k] for k in ("capsnet", "cnn")} == {k: v["sha256"] for k, v in body["models"].items()}
    assert body["images"] == 10_000
    rotation = body["transforms"]["rotation"]
    upright = rotation["values"].index(0)
    for model in ("capsnet", "cnn"):  # untransformed accuracy is each model's own test accuracy
        assert rotation[model][upright] == pytest.approx(body["models"][model]["test_accuracy"], abs=1e-9)
    assert response.headers["ETag"]


def test_a_stale_or_missing_robustness_table_is_refused(app, client, tmp_path):
    table = json.loads((PROJECT_ROOT / "results" / "robustness.json").read_text())
    table["models"]["cnn"]["sha256"] = "f" * 64
    (tmp_path / "robustness.json").write_text(json.dumps(table))
    shipped = app.config["RESULTS"]
    app.config["RESULTS"] = str(tmp_path)
    try:
        response = client.get("/api/robustness")
        (tmp_path / "robustness.json").unlink()
        missing = client.get("/api/robustness")
    finally:
        app.config["RESULTS"] = shipped
    assert response.status_code == 503
    assert "f" * 64 in response.get_json()["error"] and "python -m studies.robustness" in response.get_json()["error"]
    assert missing.status_code == 503 and "python -m studies.robustness" in missing.get_json()["error"]
