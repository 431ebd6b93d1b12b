"""GET /api/decoder: the decoder's weights in one binary file (CAPSDEC1, docs/api.md), for a
client that decodes by itself: decoded as its header says, it draws what POST /api/reconstruct
draws, within 1/255 per pixel, for several digits and slider settings."""
from __future__ import annotations

import numpy as np

from app.serving.decoder_weights import read_decoder_weights
from model.spec import SWEEP_PERTURBATIONS as SWEEP_STEPS
from support.digits import gallery_digit

TOLERANCE = 2 / 255
DIGITS = [(0, 0), (3, 1), (5, 0), (7, 2), (9, 1)]  # (label, gallery index)


def capsules(app) -> list[tuple[int, np.ndarray]]:
    """(predicted digit, its 16-D capsule) for a few real gallery digits."""
    service = app.extensions["models"]["capsnet"]
    out = []
    for label, index in DIGITS:
        analysis = service.analyze(gallery_digit(label, index).astype(np.float32) / 255)
        digit = int(analysis["prediction"])
        out.append((digit, analysis["digit_caps"][digit]))
    return out


def slider_settings(vector: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The capsule as is, one dimension at either end of its slider, and every slider moved."""
    moved_up, moved_down = vector.copy(), vector.copy()
    moved_up[0] += 0.25
    moved_down[5] -= 0.25
    return [vector, moved_up, moved_down, vector + rng.uniform(-0.25, 0.25, vector.shape).astype(np.float32)]


def numpy_decode(layers: list[dict], digit: int, vector: np.ndarray) -> np.ndarray:
    x = np.zeros(layers[0]["kernel"].shape[0], np.float32)
    x[digit * 16:(digit + 1) * 16] = vector
    for n, layer in enumerate(layers):
        x = x @ layer["kernel"] + layer["bias"]
        x = np.maximum(x, 0) if n < len(layers) - 1 else 1 / (1 + np.exp(-x))
    return x.reshape(28, 28)


def test_decoder_file_is_cacheable_and_decodes_like_the_server(app, client):
    service = app.extensions["models"]["capsnet"]
    response = client.get("/api/decoder")
    assert response.status_code == 200 and response.mimetype == "application/octet-stream"
    assert response.headers["ETag"] and "max-age" in response.headers["Cache-Control"]  # test_api: the tag's content
    assert client.get("/api/decoder", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    header, layers = read_decoder_weights(response.get_data())
    assert header["sha256"] == service.sha256 and header["sweep_perturbations"] == SWEEP_STEPS.tolist()
    assert [(layer["inputs"], layer["units"], layer["activation"]) for layer in header["layers"]] == [
        (160, 512, "relu"), (512, 1024, "relu"), (1024, 784, "sigmoid")]
    assert len(response.get_data()) < 3_000_000  # float16: about 2.8 MB
    rng = np.random.default_rng(0)
    for digit, vector in capsules(app):
        for setting in slider_settings(vector, rng):
            expected = service.reconstruct(digit, setting)
            assert np.abs(numpy_decode(layers, digit, setting) - expected).max() < TOLERANCE / 2


def test_openapi_documents_the_binary_format(client):
    operation = client.get("/api/openapi.json").get_json()["paths"]["/api/decoder"]["get"]
    assert "CAPSDEC1" in operation["summary"]
    assert "application/octet-stream" in operation["responses"]["200"]["content"]
