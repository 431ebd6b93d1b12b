"""/api/multi/*: the MultiMNIST CapsNet served like the MNIST one, checked against the model run
directly, pairs placed by hand, and every bad input."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from app.http.encoding import dequantize
from app.http.schemas import PairAnalyzeResponse, PairReconstructResponse
from model.checkpoint import read_metadata
from model.registry import card
from support.digits import gallery_digit


def digit(label: int, index: int = 0) -> np.ndarray:
    return gallery_digit(label, index) / 255.0


def compose_body(a: np.ndarray, b: np.ndarray, a_shift=(0, 0), b_shift=(0, 0)) -> dict:
    return {"compose": [{"pixels": a.tolist(), "dy": a_shift[0], "dx": a_shift[1]},
                        {"pixels": b.tolist(), "dy": b_shift[0], "dx": b_shift[1]}]}


def by_hand(a: np.ndarray, b: np.ndarray, a_shift, b_shift) -> np.ndarray:
    """Each digit zero-padded by 4 + shift before and 4 - shift after, then the maximum."""
    placed = [np.pad(d, ((4 + dy, 4 - dy), (4 + dx, 4 - dx))) for d, (dy, dx) in ((a, a_shift), (b, b_shift))]
    return np.maximum(*placed)


@pytest.fixture(scope="module")
def pair(app):
    a, b = digit(7), digit(3)
    response = app.test_client().post("/api/multi/analyze", json=compose_body(a, b, (1, -2), (-2, 3)))
    assert response.status_code == 200, response.get_json()
    return a, b, response.get_json()


def test_compose_places_both_digits_as_the_pairs_are_made(pair):
    a, b, answer = pair
    PairAnalyzeResponse.model_validate(answer)
    np.testing.assert_allclose(answer["input"], by_hand(a, b, (1, -2), (-2, 3)), atol=1e-5)


def test_the_answer_is_the_models_own(app, pair):
    """The served numbers against the model called directly on the same canvas."""
    _, _, answer = pair
    model = app.extensions["models"]["multimnist"].model
    outputs = model(np.asarray(answer["input"], np.float32)[None, ..., None])
    lengths = np.asarray(outputs["lengths"])[0]
    np.testing.assert_allclose(answer["lengths"], lengths, atol=1e-4)
    assert answer["top2"] == np.argsort(-lengths)[:2].tolist()
    np.testing.assert_allclose(answer["digit_caps"], np.asarray(outputs["digit_caps"])[0], atol=1e-4)
    redrawn = np.asarray(outputs["reconstructions"])[0, ..., 0]  # each of the two from its own capsule
    np.testing.assert_allclose(answer["reconstructions"]["a"], redrawn[0], atol=1e-4)
    np.testing.assert_allclose(answer["reconstructions"]["b"], redrawn[1], atol=1e-4)
    assert not np.allclose(redrawn[0], redrawn[1], atol=0.05)  # two different digits drawn


def test_routing_iterations_are_couplings_over_the_10x10_grid(pair):
    _, _, answer = pair
    iterations = answer["routing"]["iterations"]
    assert len(iterations) == 3
    for iteration in iterations:
        coupling = dequantize(iteration["coupling"])
        assert coupling.shape == (10, 10, 32, 10)  # 3,200 primary capsules to 10 digit capsules
        np.testing.assert_allclose(coupling.sum(-1), 1.0, atol=10 * (coupling.max() - coupling.min()) / 510)
    np.testing.assert_allclose(iterations[-1]["lengths"], answer["lengths"], atol=1e-5)
    # the first iteration's couplings are uniform: 1/10 everywhere
    np.testing.assert_allclose(dequantize(iterations[0]["coupling"]), 0.1, atol=1e-6)


def test_routing_shares_are_the_models_couplings_weighted_by_primary_lengths(app, pair):
    """Recomputed by hand from the model's own outputs: at each grid position (rows, cols of the
    3,200 capsules ordered row, col, type), sum over the 32 types of |u_i| c_ij / sum of |u_i|."""
    _, _, answer = pair
    outputs = app.extensions["models"]["multimnist"].model(np.asarray(answer["input"], np.float32)[None, ..., None])
    coupling = np.asarray(outputs["routing_coupling"], np.float64)[0]  # (3, 3200, 10)
    weights = np.asarray(outputs["primary_caps_lengths"], np.float64)[0].reshape(10, 10, 32)
    a, b = answer["top2"]
    shares = answer["routing_shares"]["iterations"]
    assert len(shares) == 3
    for served, c in zip(shares, coupling):
        c = c.reshape(10, 10, 32, 10)
        by_position = np.einsum("rctj,rct->rcj", c, weights) / weights.sum(-1)[..., None]
        np.testing.assert_allclose(served["a"], by_position[..., a], atol=2e-5)
        np.testing.assert_allclose(served["b"], by_position[..., b], atol=2e-5)
        overall = np.einsum("rctj,rct->j", c, weights) / weights.sum()
        np.testing.assert_allclose(served["overall"], overall, atol=2e-5)
        assert sum(served["overall"]) == pytest.approx(1.0, abs=1e-4)
    # routing starts from an even split: 1/10 of every vote to every digit, everywhere
    np.testing.assert_allclose(shares[0]["overall"], 0.1, atol=1e-6)
    np.testing.assert_allclose(shares[0]["a"], 0.1, atol=1e-6)
    # the grid's place on the input: 9x9 kernels, strides 1 and 2 -> 17x17 pixels, 2 apart
    assert answer["routing_shares"]["receptive_field"] == {"size": 17, "stride": 2, "grid": [10, 10, 32],
                                                           "input_side": 36}
    # and later iterations move away from it (by how much is the model's business)
    assert np.abs(np.asarray(shares[-1]["a"]) - 0.1).max() > 1e-4


def test_reconstruct_redraws_any_capsule_like_the_analysis(client, pair):
    _, _, answer = pair
    a = answer["top2"][0]
    response = client.post("/api/multi/reconstruct", json={"digit": a, "vector": answer["digit_caps"][a]})
    assert response.status_code == 200
    PairReconstructResponse.model_validate(response.get_json())
    np.testing.assert_allclose(response.get_json()["reconstruction"], answer["reconstructions"]["a"], atol=1e-4)
    # a digit that is not in the pair: its own (short) capsule is decoded, whatever it draws
    absent = next(d for d in range(10) if d not in answer["top2"])
    other = client.post("/api/multi/reconstruct", json={"digit": absent, "vector": answer["digit_caps"][absent]})
    assert np.array(other.get_json()["reconstruction"]).shape == (36, 36)
    # moving one dimension changes the drawing
    moved = list(answer["digit_caps"][a])
    moved[0] += 0.25
    changed = client.post("/api/multi/reconstruct", json={"digit": a, "vector": moved}).get_json()
    assert np.abs(np.subtract(changed["reconstruction"], answer["reconstructions"]["a"])).max() > 0.01


def test_pixels_are_used_as_sent_and_cached(app, client, pair):
    _, _, answer = pair
    service = app.extensions["models"]["multimnist"]
    body = {"pixels": answer["input"]}
    first = client.post("/api/multi/analyze", json=body).get_json()
    passes = service.forward_passes
    again = client.post("/api/multi/analyze", json=body).get_json()
    assert service.forward_passes == passes  # the second answer came from the cache
    assert first == again and first["top2"] == answer["top2"]
    np.testing.assert_allclose(first["input"], answer["input"])
    fewer = client.post("/api/multi/analyze", json={**body, "routing_iterations": 1}).get_json()
    assert len(fewer["routing"]["iterations"]) == 1 and service.forward_passes == passes + 1


def data_url(canvas: np.ndarray, scale: int = 8) -> str:
    """A dark-on-light PNG drawing, larger than the canvas, as a browser would send it."""
    image = Image.fromarray((255 - canvas * 255).astype(np.uint8)).resize(
        (canvas.shape[1] * scale, canvas.shape[0] * scale), Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_an_image_of_a_pair_is_fitted_into_36x36(client, pair):
    _, _, answer = pair
    drawn = np.asarray(answer["input"])
    response = client.post("/api/multi/analyze", json={"image": data_url(drawn)})
    assert response.status_code == 200, response.get_json()
    fitted = np.asarray(response.get_json()["input"])
    assert fitted.shape == (36, 36) and fitted.max() == pytest.approx(1.0)
    rows, cols = np.nonzero(fitted > 0.1)
    assert 20 <= max(np.ptp(rows), np.ptp(cols)) + 1 <= 26  # the longer side fitted into 24 pixels
    mass = fitted / fitted.sum()
    centre = [(np.arange(36)[:, None] * mass).sum(), (np.arange(36)[None] * mass).sum()]
    np.testing.assert_allclose(centre, 18.0, atol=1.0)  # centred by mass, like MNIST in its 28x28
    upload = client.post("/api/multi/analyze", content_type="multipart/form-data", data={
        "image": (io.BytesIO(base64.b64decode(data_url(drawn).split(",")[1])), "pair.png")})
    assert upload.status_code == 200 and upload.get_json()["input"] == response.get_json()["input"]


@pytest.mark.parametrize("body, says", [
    ({"pixels": [[0.0] * 28] * 28}, "at least 36 items"),
    ({"compose": [{"pixels": [[0.0] * 28] * 28}]}, "at least 2 items"),
    ({"compose": [{"pixels": [[0.0] * 28] * 28, "dx": 5}, {"pixels": [[0.0] * 28] * 28}]},
     "compose.0.dx: Input should be less than or equal to 4"),
    ({"compose": [{"pixels": [[0.0] * 28] * 28, "dy": 1.5}, {"pixels": [[0.0] * 28] * 28}]}, "compose.0.dy"),
    ({"compose": [{"pixels": [[0.0] * 36] * 36}, {"pixels": [[0.0] * 28] * 28}]}, "compose.0.pixels"),
    ({"pixels": [[0.0] * 36] * 36, "compose": [{"pixels": [[0.0] * 28] * 28}] * 2}, "exactly one of 'image'"),
    ({}, "exactly one of 'image'"),
    ({"pixels": [[0.0] * 36] * 36, "routing_iterations": 11}, "routing_iterations"),
    ({"pixels": [[2.0] * 36] * 36}, "less than or equal to 1"),
])
def test_bad_pairs_are_a_clear_422(client, body, says):
    response = client.post("/api/multi/analyze", json=body)
    assert response.status_code == 422 and says in response.get_json()["error"], response.get_json()
    assert "ranges over" not in response.get_json()["error"]  # dx here is a shift, not the transform


def test_bad_capsules_are_a_clear_422(client):
    response = client.post("/api/multi/reconstruct", json={"digit": 10, "vector": [0.0] * 16})
    assert response.status_code == 422 and "digit" in response.get_json()["error"]
    assert client.post("/api/multi/reconstruct", data="x").status_code == 415


def test_models_lists_the_pair_model_with_its_measured_accuracy(client):
    models = {entry["id"]: entry for entry in client.get("/api/models").get_json()}
    entry, metadata = models["multimnist"], read_metadata(card("multimnist").checkpoint)
    assert entry["input_shape"] == [36, 36] and entry["test_unit"] == "pairs" and entry["test_count"] == 10000
    assert entry["test_accuracy"] == metadata["test_accuracy"] and entry["sha256"] == metadata["sha256"]
    assert models["capsnet"]["input_shape"] == [28, 28] and models["capsnet"]["test_unit"] == "images"


def test_the_pair_network_takes_the_saliency_path(app, pair):
    """MultiCapsNet inherits CapsNet's gradient through every routing iteration: d|v_j|/d pixel on
    the 36x36 canvas, checked against a finite difference of its own lengths."""
    _, _, answer = pair
    service = app.extensions["models"]["multimnist"]
    canvas = np.asarray(answer["input"], np.float32)
    digit_a = answer["top2"][0]
    saliency = service.saliency(canvas, digit_a)
    assert saliency.shape == (36, 36) and np.isfinite(saliency).all() and np.abs(saliency).max() > 0
    row, col = np.unravel_index(np.argmax(np.abs(saliency)), saliency.shape)
    step = 0.02

    def length(delta: float) -> float:
        moved = canvas.copy()
        moved[row, col] += delta
        return float(np.asarray(service.model(moved[None, ..., None])["lengths"])[0, digit_a])

    assert (length(step) - length(-step)) / (2 * step) == pytest.approx(saliency[row, col], rel=0.05)


def test_an_upload_is_the_whole_input_and_the_document_says_so(client):
    """The multipart form takes the file and the request's other fields, never a second input:
    the OpenAPI document lists neither pixels nor compose there, and the server refuses them."""
    form = client.get("/api/openapi.json").get_json()["paths"]["/api/multi/analyze"]["post"]["requestBody"]
    properties = form["content"]["multipart/form-data"]["schema"]["properties"]
    assert set(properties) == {"image", "routing_iterations"}
    upload = io.BytesIO()
    Image.fromarray((np.pad(digit(7), 4) * 255).astype(np.uint8)).save(upload, "PNG")
    body = compose_body(digit(7), digit(3))
    response = client.post("/api/multi/analyze", content_type="multipart/form-data", data={
        "image": (io.BytesIO(upload.getvalue()), "pair.png"), "compose": json.dumps(body["compose"])})
    assert response.status_code == 422 and "The uploaded file is the input" in response.get_json()["error"]
    alone = client.post("/api/multi/analyze", content_type="multipart/form-data",
                        data={"image": (io.BytesIO(upload.getvalue()), "pair.png"), "routing_iterations": "2"})
    assert alone.status_code == 200 and len(alone.get_json()["routing"]["iterations"]) == 2
