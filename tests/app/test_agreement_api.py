"""Votes, the math panel's numbers, dimension labels and mistakes, against the model's own outputs."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from app.http.encoding import dequantize
from app.http.schemas import CapsuleMathResponse, DimensionsResponse, MistakesResponse, VotesResponse
from support.digits import PROJECT_ROOT, gallery_digit


def pixels(label: int, index: int = 0) -> list:
    return (gallery_digit(label, index) / 255.0).tolist()


def np_squash(s: np.ndarray) -> np.ndarray:
    """Eq. 1 written out: |s|^2 / (1 + |s|^2) * s / |s| (not the model's squash, which it checks)."""
    norm = np.linalg.norm(s)
    return norm**2 / (1.0 + norm**2) * s / norm


@pytest.mark.parametrize("iterations", [3, 5])
def test_votes_coupling_equals_the_routing_endpoints(client, iterations):
    body = client.post("/api/votes", json={"pixels": pixels(9), "digit": 4,
                                           "routing_iterations": iterations}).get_json()
    VotesResponse.model_validate(body)
    routing = client.post("/api/routing", json={"pixels": pixels(9), "routing_iterations": iterations}).get_json()
    assert np.array(body["coupling"]).shape == (iterations, 1152)
    assert len(body["coupling"]) == len(body["lengths"]) == len(routing["routing"]["iterations"]) == iterations
    for k, theirs in enumerate(routing["routing"]["iterations"]):  # each iteration with its own
        coupling = dequantize(theirs["coupling"])[..., 4]  # (6, 6, 32): one order on the wire, the model's
        tolerance = (theirs["coupling"]["max"] - theirs["coupling"]["min"]) / 255
        np.testing.assert_allclose(np.array(body["coupling"][k]), coupling.ravel(), atol=tolerance, err_msg=f"iteration {k}")
        np.testing.assert_allclose(body["lengths"][k], theirs["lengths"], atol=1e-4, err_msg=f"iteration {k}")
    # the iterations differ (or comparing each with the first would have passed as well)
    assert np.abs(np.subtract(body["lengths"][-1], body["lengths"][0])).max() > 1e-3


def test_votes_project_with_the_committed_pca_and_agree_most_on_the_answer(client):
    body = client.post("/api/votes", json={"pixels": pixels(2), "digit": 2}).get_json()
    table = json.loads((PROJECT_ROOT / "results" / "votes_pca.json").read_text())
    projection = table["projections"][2]
    assert body["projection"] == {"method": "PCA", "images": table["images"],
                                  "explained_variance_ratio": projection["explained_variance_ratio"]}
    math = client.post("/api/capsule-math", json={"pixels": pixels(2), "capsule": 700, "digit": 2}).get_json()
    expected = (np.array(math["u_hat"]) - projection["mean"]) @ np.array(projection["components"]).T
    np.testing.assert_allclose(body["points"][700], expected, atol=1e-4)
    v_final = np.array(math["iterations"][-1]["v_j"])
    projected = (v_final - projection["mean"]) @ np.array(projection["components"]).T
    np.testing.assert_allclose(body["digit_caps"][-1], projected, atol=1e-4)
    # the votes agree most on the digit the network answers, by the last iteration
    assert int(np.argmax(body["agreement"][-1])) == 2
    assert np.array(body["evidence"]).shape == np.array(body["saliency"]).shape == (28, 28)


def test_saliency_is_the_gradient_of_the_capsule_length(app, client):
    """Checked against a finite difference of the served lengths at the pixel of largest gradient."""
    image = np.array(pixels(6))
    body = client.post("/api/votes", json={"pixels": image.tolist(), "digit": 6}).get_json()
    saliency = np.array(body["saliency"])
    row, col = np.unravel_index(np.argmax(np.abs(saliency)), saliency.shape)
    step = 0.02
    service = app.extensions["models"]["capsnet"]

    def length(delta: float) -> float:
        moved = image.copy()
        moved[row, col] += delta
        return float(service.classify(moved[None])["lengths"][0, 6])

    slope = (length(step) - length(-step)) / (2 * step)
    assert slope == pytest.approx(saliency[row, col], rel=0.05)


def test_capsule_math_reproduces_squash_prediction_and_routing(client):
    body = client.post("/api/capsule-math", json={"pixels": pixels(3), "capsule": 321, "digit": 3}).get_json()
    CapsuleMathResponse.model_validate(body)
    s_i, u_i, u_hat = np.array(body["s_i"]), np.array(body["u_i"]), np.array(body["u_hat"])
    np.testing.assert_allclose(np_squash(s_i), u_i, atol=1e-5)  # u_i = squash(s_i)
    np.testing.assert_allclose(u_i @ np.array(body["W_ij"]), u_hat, atol=1e-4)  # u_hat = W u
    first, *rest = body["iterations"]
    assert len(rest) == 2  # the default 3 iterations
    np.testing.assert_allclose(first["b"], 0.0)  # the logits start at 0 ...
    np.testing.assert_allclose(first["c"], 0.1, atol=1e-6)  # ... so the coupling starts even
    for step in body["iterations"]:
        np.testing.assert_allclose(step["agreement"], u_hat @ np.array(step["v_j"]), atol=1e-4)  # u_hat . v_j
        c = np.exp(step["b"]) / np.exp(step["b"]).sum()
        np.testing.assert_allclose(step["c"], c, atol=1e-4)  # c = softmax(b) over the 10 digits
        np.testing.assert_allclose(np_squash(np.array(step["s_j"])), step["v_j"], atol=1e-4)  # v_j = squash(s_j)
    for before, after in zip(body["iterations"], rest):  # b_ij grows by the agreement u_hat . v_j
        assert after["b"][3] == pytest.approx(before["b"][3] + before["agreement"], abs=1e-4)
    lengths = client.post("/api/digit-caps", json={"pixels": pixels(3)}).get_json()["digit_caps"]["lengths"]
    np.testing.assert_allclose(body["margin_loss"]["lengths"], lengths, atol=1e-4)
    # answered 3 with |v_3| over 0.9: no loss for digit 3; others only above m- = 0.1
    expected = [0.5 * max(0.0, v - 0.1) ** 2 if k != 3 else max(0.0, 0.9 - v) ** 2 for k, v in enumerate(lengths)]
    np.testing.assert_allclose(body["margin_loss"]["per_digit"], expected, atol=1e-4)


@pytest.mark.parametrize("body", [{"capsule": 1152, "digit": 0}, {"capsule": 0, "digit": 10}, {"capsule": 5}])
def test_capsule_math_refuses_capsules_out_of_range(client, body):
    assert client.post("/api/capsule-math", json={"pixels": pixels(0), **body}).status_code == 422


def test_dimension_labels_are_the_committed_measurements(client):
    body = client.get("/api/dimensions").get_json()
    DimensionsResponse.model_validate(body)
    assert set(body["classes"]) == {str(d) for d in range(10)}
    for entry in body["classes"]["1"]["dimensions"]:
        r = entry["correlations"][entry["label"]] if entry["label"] else None
        if entry["label"]:
            assert abs(r) >= body["threshold"] and entry["text"] == f"{entry['label']}, r = {r:.2f}"
        else:
            assert entry["text"] == "no single property"


def test_mistakes_match_a_fresh_classification_and_the_accuracy(app, client):
    body = client.get("/api/mistakes").get_json()
    MistakesResponse.model_validate(body)
    accuracy = app.extensions["models"]["capsnet"].metadata["test_accuracy"]
    assert len(body) == round((1 - accuracy) * 10_000)  # 34 at 99.66%
    served = [client.get("/" + entry["image"]) for entry in body]  # the URLs are relative to the page
    images = np.stack([np.asarray(Image.open(io.BytesIO(image.get_data()))) / 255.0 for image in served])
    fresh = app.extensions["models"]["capsnet"].classify(images)
    np.testing.assert_array_equal(fresh["prediction"], [entry["prediction"] for entry in body])
    assert all(entry["prediction"] != entry["label"] for entry in body)
    np.testing.assert_allclose(fresh["lengths"], [entry["lengths"] for entry in body], atol=1e-4)
