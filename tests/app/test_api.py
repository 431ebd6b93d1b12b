"""The JSON API with Flask's test client: every endpoint, faithfulness, every bad input."""
from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from app.http.encoding import dequantize, quantize
from app.http.endpoints import ENDPOINTS
from app.http.schemas import (
    AnalyzeResponse,
    DigitCapsResponse,
    KernelsResponse,
    ModelResponse,
    PrimaryCapsResponse,
    ReconstructionResponse,
    ReconstructResponse,
    ReluResponse,
    RoutingResponse,
    SweepResponse,
)
from support.digits import PROJECT_ROOT, gallery_digit
from support.images import dark_on_light_upload, png_claiming_size

PER_LAYER = {
    "/api/relu": ReluResponse,
    "/api/primary-caps": PrimaryCapsResponse,
    "/api/routing": RoutingResponse,
    "/api/digit-caps": DigitCapsResponse,
    "/api/reconstruction": ReconstructionResponse,
}


def pixels(label: int, index: int = 0) -> list:
    return (gallery_digit(label, index) / 255.0).tolist()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, path: str, data: bytes, **fields):
    return client.post(path, data={"image": (io.BytesIO(data), "digit.png"), **fields},
                       content_type="multipart/form-data")


@pytest.fixture(scope="module")
def analysis(app):
    response = app.test_client().post("/api/analyze", json={"pixels": pixels(3)})
    assert response.status_code == 200
    return response.get_json()


def test_analyze_returns_every_stage_in_the_documented_shapes(analysis):
    AnalyzeResponse.model_validate(analysis)
    assert np.array(analysis["input"]).shape == (28, 28)
    assert dequantize(analysis["conv1"]).shape == (256, 20, 20)
    assert np.array(analysis["primary_caps"]["lengths"]).shape == (6, 6, 32)
    assert dequantize(analysis["primary_caps"]["vectors"]).shape == (6, 6, 32, 8)
    assert len(analysis["routing"]["iterations"]) == 3
    assert dequantize(analysis["routing"]["iterations"][0]["coupling"]).shape == (6, 6, 32, 10)
    assert np.array(analysis["digit_caps"]["vectors"]).shape == (10, 16)
    assert np.array(analysis["reconstruction"]).shape == (28, 28)
    assert len(json.dumps(analysis)) < 300_000


@pytest.mark.parametrize("iterations", [1, 10])
def test_analyze_answer_stays_under_300_kb_at_any_routing_iterations(client, iterations):
    # each iteration adds a [6, 6, 32, 10] coupling array: 10 is the largest answer
    response = client.post("/api/analyze", json={"pixels": pixels(8), "routing_iterations": iterations})
    assert response.status_code == 200
    assert len(response.get_json()["routing"]["iterations"]) == iterations
    assert len(response.data) < 300_000


def test_quantized_arrays_are_deflated_uint8_with_a_scale():
    encoded = quantize(np.array([[-1.0, 0.0], [0.5, 3.0]], np.float32))
    assert (encoded["encoding"], encoded["compression"]) == ("uint8", "deflate")
    assert (encoded["shape"], encoded["min"], encoded["max"]) == ([2, 2], -1.0, 3.0)
    # byte = (value - min) / (max - min) * 255: 0, 255/4 = 63.75 -> 64, 1.5/4*255 = 95.6 -> 96, 255
    assert zlib.decompress(base64.b64decode(encoded["data"])) == bytes([0, 64, 96, 255])
    # back to within (max - min) / 510 = 4 / 510
    np.testing.assert_allclose(dequantize(encoded), [[-1.0, 0.0], [0.5, 3.0]], atol=4 / 510)
    # a constant array: every byte 0, and it still decodes to the constant
    np.testing.assert_array_equal(dequantize(quantize(np.full((3, 3), 0.25))), np.full((3, 3), 0.25))


@pytest.mark.parametrize("label", range(10))
def test_gallery_digits_are_classified_correctly(client, label):
    response = client.post("/api/digit-caps", json={"pixels": pixels(label)})
    assert response.get_json()["prediction"] == label


def test_lengths_are_the_norms_of_the_vectors(analysis):
    vectors = np.array(analysis["digit_caps"]["vectors"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), analysis["digit_caps"]["lengths"], atol=1e-4)
    assert analysis["prediction"] == int(np.argmax(analysis["digit_caps"]["lengths"]))
    primary = dequantize(analysis["primary_caps"]["vectors"])
    scale = analysis["primary_caps"]["vectors"]
    tolerance = 4 * (scale["max"] - scale["min"]) / 510  # uint8 rounding of 8 entries
    assert np.allclose(np.linalg.norm(primary, axis=-1), analysis["primary_caps"]["lengths"], atol=tolerance)
    assert np.all(np.array(analysis["primary_caps"]["lengths"]) < 1)


def test_coupling_coefficients_sum_to_one_over_the_digit_capsules(analysis):
    for number, iteration in enumerate(analysis["routing"]["iterations"]):
        coupling = dequantize(iteration["coupling"])
        assert np.allclose(coupling.sum(axis=-1), 1.0, atol=10 * 0.5 / 255)
        if number == 0:  # logits start at 0: every primary capsule splits its vote evenly
            assert np.allclose(coupling, 0.1, atol=1e-6)
    final_lengths = analysis["routing"]["iterations"][-1]["lengths"]
    assert np.allclose(final_lengths, analysis["digit_caps"]["lengths"], atol=1e-4)


def test_routing_iterations_is_honoured(client):
    for iterations in (1, 10):
        body = client.post("/api/routing", json={"pixels": pixels(8), "routing_iterations": iterations}).get_json()
        assert len(body["routing"]["iterations"]) == iterations
    body = upload(client, "/api/routing", png_bytes(Image.fromarray(gallery_digit(8))), routing_iterations="5")
    assert len(body.get_json()["routing"]["iterations"]) == 5


def test_reconstruct_with_the_predicted_vector_reproduces_the_analysis(client, analysis):
    digit = analysis["prediction"]
    response = client.post("/api/reconstruct", json={"digit": digit, "vector": analysis["digit_caps"]["vectors"][digit]})
    ReconstructResponse.model_validate(response.get_json())
    assert np.abs(np.array(response.get_json()["reconstruction"]) - np.array(analysis["reconstruction"])).max() < 1e-3


def test_each_reconstruction_resembles_its_own_input_most(client):
    labels = (0, 1, 4, 7)
    inputs = [np.ravel(pixels(label)) for label in labels]
    for label in labels:
        body = client.post("/api/reconstruction", json={"pixels": pixels(label)}).get_json()
        correlations = [np.corrcoef(np.ravel(body["reconstruction"]), other)[0, 1] for other in inputs]
        assert np.argmax(correlations) == labels.index(label)


def test_sweep_is_figure_4(client, analysis):
    digit = analysis["prediction"]
    vector = analysis["digit_caps"]["vectors"][digit]
    body = client.post("/api/sweep", json={"digit": digit, "vector": vector}).get_json()
    SweepResponse.model_validate(body)
    assert body["perturbations"] == pytest.approx([-0.25 + 0.05 * k for k in range(11)])
    images = dequantize(body["images"])
    assert images.shape == (16, 11, 28, 28)
    # The middle column is the unperturbed capsule: the analysis' own reconstruction.
    assert np.abs(images[:, 5] - np.array(analysis["reconstruction"])).max() < 0.01
    # Dimension 0 moved by +0.25 is what /api/reconstruct decodes for the same vector.
    moved = list(vector)
    moved[0] += 0.25
    single = client.post("/api/reconstruct", json={"digit": digit, "vector": moved}).get_json()
    assert np.abs(images[0, 10] - np.array(single["reconstruction"])).max() < 0.01


@pytest.mark.parametrize("path,model", PER_LAYER.items())
def test_per_layer_endpoints_return_their_part_of_the_analysis(client, analysis, path, model):
    body = client.post(path, json={"pixels": pixels(3)}).get_json()
    model.model_validate(body)
    for key, value in body.items():
        assert value == analysis[key]


def test_a_repeated_input_is_served_from_the_cache(app, client):
    service = app.extensions["models"]["capsnet"]
    before = service.forward_passes
    client.post("/api/analyze", json={"pixels": pixels(6, 1)})
    assert service.forward_passes == before + 1  # a new input: one forward pass
    client.post("/api/primary-caps", json={"pixels": pixels(6, 1)})
    client.post("/api/routing", json={"pixels": pixels(6, 1)})
    assert service.forward_passes == before + 1  # the same input again: none
    client.post("/api/routing", json={"pixels": pixels(6, 1), "routing_iterations": 4})
    assert service.forward_passes == before + 2  # other routing iterations: a new pass


def test_uploads_in_any_polarity_size_and_position_give_the_original_prediction(client):
    for label in (2, 5, 9):
        expected = client.post("/api/digit-caps", json={"pixels": pixels(label, 1)}).get_json()["prediction"]
        photo = dark_on_light_upload(gallery_digit(label, 1), 350)
        assert upload(client, "/api/digit-caps", png_bytes(photo)).get_json()["prediction"] == expected
        data_url = "data:image/png;base64," + base64.b64encode(png_bytes(photo.convert("RGB"))).decode()
        assert client.post("/api/digit-caps", json={"image": data_url}).get_json()["prediction"] == expected


def test_canvas_drawing_is_recognised(client):
    """What the page's drawing pad sends: white strokes on transparent RGBA, 280x280."""
    from PIL import ImageDraw
    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(150, 40), (140, 240)], fill=(255, 255, 255, 255), width=18)
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes(canvas)).decode()
    assert client.post("/api/digit-caps", json={"image": data_url}).get_json()["prediction"] == 1


def test_model_and_kernels(client):
    model = client.get("/api/model")
    ModelResponse.model_validate(model.get_json())
    assert model.get_json()["parameters"] == 8_215_568
    assert model.get_json()["checkpoint"]["test_accuracy"] > 0.98
    kernels = client.get("/api/conv1/kernels")
    KernelsResponse.model_validate(kernels.get_json())
    decoded = dequantize(kernels.get_json()["kernels"])
    assert decoded.shape == (256, 9, 9) and decoded.min() < 0 < decoded.max()
    assert kernels.headers["ETag"] and "max-age" in kernels.headers["Cache-Control"]
    again = client.get("/api/conv1/kernels", headers={"If-None-Match": kernels.headers["ETag"]})
    assert again.status_code == 304


def test_security_headers_on_every_response(client):
    for response in (client.get("/"), client.get("/api/model"), client.get("/nowhere")):
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_documents_every_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules()
              if not rule.endpoint.endswith("static") for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    assert client.get("/api/docs").status_code == 200


def test_health_and_readiness(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").get_json()["status"] == "ready"


def test_readiness_waits_for_the_warm_up():
    from app import create_app
    cold = create_app({"TESTING": True, "WARM_UP": False})
    assert cold.test_client().get("/readyz").status_code == 503
    cold.extensions["models"]["capsnet"].warm_up()
    waiting = cold.test_client().get("/readyz")
    assert waiting.status_code == 503 and "cnn" in waiting.get_json()["error"]  # every model, not one
    cold.extensions["models"]["cnn"].warm_up()
    waiting = cold.test_client().get("/readyz")
    assert waiting.status_code == 503 and waiting.get_json()["error"].endswith("multimnist.")
    cold.extensions["models"]["multimnist"].warm_up()
    assert cold.test_client().get("/readyz").status_code == 200


def test_missing_or_corrupt_checkpoint_stops_start_up_with_a_clear_message(tmp_path):
    """A damaged copy of the CapsNet's weights whose card was re-hashed to match: it passes the
    sha256 check, so what refuses it is the loader, naming the file and how to restore it."""
    from app import create_app
    from model.checkpoint import CheckpointError, sha256_of
    from model.registry import card
    from support.checkpoints import damaged_copy, truncated
    with pytest.raises(CheckpointError, match=r"No checkpoint at .*missing.weights.h5.*python -m training.train"):
        create_app({"CHECKPOINT": str(tmp_path / "missing.weights.h5"), "WARM_UP": False})
    corrupt = damaged_copy("capsnet", tmp_path / "damaged", truncated)
    assert json.loads((tmp_path / "damaged" / "capsnet.json").read_text())["sha256"] == sha256_of(corrupt)
    with pytest.raises(CheckpointError, match="could not be loaded") as error:
        create_app({"CHECKPOINT": str(corrupt), "WARM_UP": False})
    message = str(error.value)
    assert str(corrupt) in message and "git checkout -- " in message and card("capsnet").train_command in message


def test_a_checkpoint_that_does_not_match_its_metadata_stops_start_up(tmp_path):
    """The sha256 recorded at export is checked: a swapped or damaged file, or one without
    metadata, is refused with both hashes and the command that re-exports it."""
    import shutil

    from app import create_app
    from model.checkpoint import CheckpointError, sha256_of
    source = PROJECT_ROOT / "checkpoints" / "cnn.weights.h5"
    copy = tmp_path / "cnn.weights.h5"
    shutil.copy(source, copy)
    with pytest.raises(CheckpointError, match=r"no metadata with a sha256.*python -m training.train --model cnn"):
        create_app({"CNN_CHECKPOINT": str(copy), "WARM_UP": False})
    metadata = json.loads((PROJECT_ROOT / "checkpoints" / "cnn.json").read_text())
    (tmp_path / "cnn.json").write_text(json.dumps({**metadata, "sha256": "0" * 64}))
    with pytest.raises(CheckpointError) as error:
        create_app({"CNN_CHECKPOINT": str(copy), "WARM_UP": False})
    assert str(copy) in str(error.value) and "0" * 64 in str(error.value)
    assert sha256_of(copy) in str(error.value) and "python -m training.train --model cnn" in str(error.value)


CACHEABLE = [e.path for e in ENDPOINTS if e.cacheable]


def test_each_cacheable_answer_has_an_etag_that_follows_its_own_content(app, client, tmp_path):
    """Not the weights' hash (which several resources shared, and which stays when the code or a
    re-measured table changes the answer): each resource's own, answered 304 while it holds."""
    from model.checkpoint import sha256_of
    weights = sha256_of(PROJECT_ROOT / "checkpoints" / "capsnet.weights.h5")
    tags = {}
    for path in CACHEABLE:
        response = client.get(path)
        assert response.status_code == 200, path
        tags[path] = response.headers["ETag"]
        assert weights not in tags[path] and "max-age" in response.headers["Cache-Control"]
        assert client.get(path, headers={"If-None-Match": tags[path]}).status_code == 304, path
        assert client.get(path).headers["ETag"] == tags[path]  # the same content, the same tag
    assert len(set(tags.values())) == len(tags), tags
    # A re-measured table, the weights unchanged: a new tag, and the old one no longer answers 304.
    table = json.loads((PROJECT_ROOT / "results" / "robustness.json").read_text())
    (tmp_path / "robustness.json").write_text(json.dumps({**table, "images": table["images"] - 1}))
    shipped = app.config["RESULTS"]
    app.config["RESULTS"] = str(tmp_path)
    try:
        changed = client.get("/api/robustness", headers={"If-None-Match": tags["/api/robustness"]})
        assert changed.status_code == 200 and changed.get_json()["images"] == table["images"] - 1
        assert changed.headers["ETag"] != tags["/api/robustness"]
    finally:
        app.config["RESULTS"] = shipped


NAN_PIXELS = '{"pixels": [' + ",".join(["[" + ",".join(["NaN"] * 28) + "]"] * 28) + "]}"
BAD_JSON_REQUESTS = [
    ("/api/analyze", "{not json", 400),
    ("/api/analyze", "[1, 2]", 422),
    ("/api/analyze", "{}", 422),
    ("/api/analyze", NAN_PIXELS, 422),
    ("/api/analyze", '{"pixels": [[0.5]]}', 422),
    ("/api/analyze", json.dumps({"pixels": [[2.0] * 28] * 28}), 422),
    ("/api/analyze", json.dumps({"pixels": [[0.0] * 28] * 28, "image": "data:image/png;base64,AA=="}), 422),
    ("/api/analyze", json.dumps({"pixels": [[0.0] * 28] * 28, "routing_iterations": 11}), 422),
    ("/api/analyze", json.dumps({"pixels": [[0.0] * 28] * 28, "extra": 1}), 422),
    ("/api/analyze", json.dumps({"image": "http://example.com/x.png"}), 422),
    ("/api/analyze", json.dumps({"image": "data:image/png;base64,!!!"}), 422),
    ("/api/analyze", json.dumps({"image": "data:image/png;base64,"}), 422),  # nothing after the comma
    ("/api/analyze", json.dumps({"image": "data:image/png;base64,AAA"}), 422),  # not whole 4-character groups
    ("/api/analyze", json.dumps({"image": "data:image/png;base64," + base64.b64encode(b"text").decode()}), 415),
    ("/api/reconstruct", json.dumps({"digit": 10, "vector": [0.0] * 16}), 422),
    ("/api/reconstruct", json.dumps({"digit": -1, "vector": [0.0] * 16}), 422),
    ("/api/reconstruct", json.dumps({"digit": "3", "vector": [0.0] * 16}), 422),
    ("/api/reconstruct", json.dumps({"digit": 3, "vector": [0.0] * 15}), 422),
    ("/api/reconstruct", '{"digit": 3, "vector": [' + ",".join(["Infinity"] * 16) + "]}", 422),
    ("/api/reconstruct", json.dumps({"digit": 3, "vector": ["a"] * 16}), 422),
    ("/api/sweep", json.dumps({"digit": 3}), 422),
    ("/api/sweep", "null", 422),
]


@pytest.mark.parametrize("path,body,status", BAD_JSON_REQUESTS)
def test_bad_json_gets_a_clear_4xx(client, path, body, status):
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == status
    assert response.get_json()["error"]


@pytest.mark.parametrize("data,status", [
    (b"", 400),
    (b"plain text, not an image", 415),
    (png_claiming_size(60_000, 60_000), 413),
    (png_bytes(Image.fromarray(gallery_digit(3)).resize((300, 300)))[:400], 400),
])
def test_bad_uploads_get_a_clear_4xx(client, data, status):
    response = upload(client, "/api/analyze", data)
    assert response.status_code == status and response.get_json()["error"]


def test_other_bad_requests(client, app):
    no_file = client.post("/api/analyze", data={"other": "x"}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and "image" in no_file.get_json()["error"]
    wrong_type = client.post("/api/analyze", data="hello", content_type="text/plain")
    assert wrong_type.status_code == 415
    too_big = upload(client, "/api/analyze", b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert too_big.status_code == 413 and "MB" in too_big.get_json()["error"]
    bad_iterations = upload(client, "/api/analyze", png_bytes(Image.fromarray(gallery_digit(1))), routing_iterations="x")
    assert bad_iterations.status_code == 422
    assert client.get("/api/analyze").status_code == 405
    assert client.get("/api/nowhere").get_json()["error"]
    assert client.get("/static/../app/__init__.py").status_code == 404


def test_run_visualization_refuses_to_start_without_a_checkpoint(tmp_path):
    missing = tmp_path / "missing.weights.h5"
    result = subprocess.run([sys.executable, "run_visualization.py", "--checkpoint", str(missing)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TF_NUM_INTRAOP_THREADS": "1"})
    assert result.returncode != 0
    assert str(missing) in result.stderr and "python -m training.train" in result.stderr


# ---------------------------------------------------------------- answers that hold

def test_a_cached_analysis_cannot_be_changed_by_one_caller_for_the_next(app):
    """The per-process cache hands every caller of the same input the same arrays."""
    service = app.extensions["models"]["capsnet"]
    digit = (gallery_digit(3, 1) / 255.0).astype(np.float32)
    mine = digit.copy()  # float32 already: the service takes it as it is
    first = service.analyze(mine)
    lengths = np.array(first["lengths"])
    with pytest.raises(ValueError, match="read-only"):
        first["lengths"][:] = 0
    with pytest.raises(ValueError, match="read-only"):
        first["primary_caps"] *= 2
    with pytest.raises(TypeError):
        first["lengths"] = np.zeros(10)
    mine[:] = 0  # the first caller reuses its own input array afterwards
    again = service.analyze(digit)
    assert np.array_equal(again["lengths"], lengths)
    assert np.array_equal(again["input"], digit)


def test_a_missing_table_names_it_from_the_project_never_the_servers_folders(app, client):
    shipped = app.config["RESULTS"]
    app.config["RESULTS"] = str(PROJECT_ROOT / "results" / "no-such-folder")
    try:
        response = client.get("/api/dimensions")
    finally:
        app.config["RESULTS"] = shipped
    message = response.get_json()["error"]
    assert response.status_code == 503
    assert "results/no-such-folder/dimensions.json" in message and "python -m studies.dimensions" in message
    assert str(PROJECT_ROOT) not in message and not message.count("/work") and "/root" not in message


def test_costly_requests_beyond_the_workers_gate_are_answered_429_at_once(app, client):
    """COSTLY_SLOTS running and COSTLY_WAITING waiting: the next costly request is refused with
    Retry-After, while the cheap endpoints still answer; once one leaves, costly ones run again."""
    import threading
    import time
    gate = app.extensions["gate"]
    held, release = [], threading.Event()

    def occupy():
        with gate.admit():
            release.wait(30)
    for _ in range(gate.slots + gate.waiting):
        held.append(threading.Thread(target=occupy, daemon=True))
        held[-1].start()
    deadline = time.monotonic() + 10
    while gate.inside < gate.slots + gate.waiting and time.monotonic() < deadline:
        time.sleep(0.01)
    body = {"pixels": pixels(7), "digit": 7}
    try:
        refused = client.post("/api/votes", json=body)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert refused.get_json()["error"].startswith("The server is busy")
        assert client.post("/api/transform-sweep", json={**body, "parameter": "rotation", "values": [0]}).status_code == 429
        assert client.post("/api/digit-caps", json={"pixels": pixels(7)}).status_code == 200  # not gated
    finally:
        release.set()
        for thread in held:
            thread.join(10)
    assert gate.inside == 0
    assert client.post("/api/votes", json=body).status_code == 200


def test_the_document_says_what_a_data_url_must_hold(client):
    """An empty or malformed data URL is invalid by the schema (its pattern), not a 400 found at
    run time; a well-formed one whose bytes are no image is the content's refusal (415)."""
    import re
    pattern = client.get("/api/openapi.json").get_json()["components"]["schemas"]["ImageRequest"][
        "properties"]["image"]["pattern"]
    png = "data:image/png;base64," + base64.b64encode(png_bytes(Image.fromarray(gallery_digit(4)))).decode()
    assert re.fullmatch(pattern, png) and re.fullmatch(pattern, "data:;base64,AAAA")
    for refused in ("data:image/png;base64,", "data:image/png;base64,AAA", "data:image/png;base64,AA=A",
                    "data:image/png,AAAA", "data:image/png;base64,AA AA"):
        assert not re.fullmatch(pattern, refused), refused
        answer = client.post("/api/digit-caps", json={"image": refused})
        assert answer.status_code == 422 and answer.get_json()["error"].startswith("image:"), refused
    assert client.post("/api/digit-caps", json={"image": png}).get_json()["prediction"] == 4


def test_the_primary_capsules_travel_in_the_models_own_order(app, analysis):
    """One order on the wire for every array over the primary capsules: the model's, i = (row * 6 +
    col) * 32 + type, the grid made explicit as [6, 6, 32, ...]; checked against the model itself."""
    model = app.extensions["models"]["capsnet"].model
    outputs = model(np.asarray(analysis["input"], np.float32)[None, ..., None])
    lengths = np.asarray(outputs["primary_caps_lengths"])[0]  # (1152,) in the model's order
    coupling = np.asarray(outputs["routing_coupling"])[0, -1]  # (1152, 10)
    np.testing.assert_allclose(np.ravel(analysis["primary_caps"]["lengths"]), lengths, atol=1e-4)
    served = analysis["routing"]["iterations"][-1]["coupling"]
    np.testing.assert_allclose(dequantize(served).reshape(1152, 10), coupling, atol=(served["max"] - served["min"]) / 255)
    capsule = (4 * 6 + 2) * 32 + 7  # row 4, column 2, type 7
    assert np.ravel(analysis["primary_caps"]["lengths"])[capsule] == pytest.approx(lengths[capsule], abs=1e-4)


def test_the_model_says_what_each_unit_sees(client):
    """Worked out by hand from the paper's layers: Conv1 9x9 stride 1, PrimaryCaps 9x9 stride 2."""
    fields = client.get("/api/model").get_json()["receptive_fields"]
    assert fields == {"conv1": {"size": 9, "stride": 1}, "primary_caps": {"size": 9 + 8 * 1, "stride": 2},
                      "primary_caps_on_conv1": {"size": 9, "stride": 2}}
