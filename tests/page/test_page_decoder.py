"""The decoder in the page (GET /api/decoder, web/engines/decoder.js) against the server's.

The page must draw what POST /api/reconstruct and /api/sweep would: within 2/255 per pixel,
for several digits and slider settings, in both of its engines (WebAssembly and plain
JavaScript), and fall back to the server when the weights cannot be had.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from app.serving.decoder_weights import read_decoder_weights
from model.spec import SWEEP_PERTURBATIONS as SWEEP_STEPS
from support.digits import gallery_digit
from support.page import DESKTOP, TIMEOUT_MS, PageErrors, canvas_rgba, settle

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips, or fails under CI, saying what to install
    expect = None

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


# ------------------------------------------------------------------ the file itself

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


# ------------------------------------------------------------------ in Chromium

def open_page(browser, live_server, block_decoder: bool = False):

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors = PageErrors(page)
    errors.allow(r"status of 503 ")  # the robustness table until measured; the refused decoder
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url.removeprefix(live_server)}"))
    if block_decoder:
        page.route("**/api/decoder", lambda route: route.fulfill(status=503, body="refused by the test"))
    page.goto(live_server)
    expect(page.get_by_test_id("prediction")).to_have_attribute("data-seq", re.compile(r"^\d+$"), timeout=TIMEOUT_MS)
    settle(page)
    return context, page, errors, requests


LOAD = "import('/static/engines/decoder.js').then((m) => m.loadDecoder())"


@pytest.mark.browser
def test_both_engines_in_the_page_match_the_server(browser, live_server, app):
    service = app.extensions["models"]["capsnet"]
    context, page, errors, _ = open_page(browser, live_server)
    try:
        assert page.evaluate(f"{LOAD}.then((d) => d.engine)") == "wasm"
        rng = np.random.default_rng(1)
        cases = [(digit, setting) for digit, vector in capsules(app) for setting in slider_settings(vector, rng)]
        cases.append((4, cases[0][1]))  # another digit's capsule decoded as a 4
        for engine in ("wasm", "js"):
            images = page.evaluate("""async ([cases, engine]) => {
                const m = await import('/static/engines/decoder.js');
                const buffer = await (await fetch('/api/decoder')).arrayBuffer();
                const kernel = engine === 'wasm' ? await (await import('/static/engines/decoder-wasm.js')).loadKernel(1) : null;
                const decoder = m.parseDecoder(buffer, kernel);
                if (decoder.engine !== engine) throw new Error(decoder.engine);
                return cases.map(([digit, vector]) => Array.from(decoder.decode(digit, vector).data));
            }""", [[[d, v.tolist()] for d, v in cases], engine])
            for (digit, setting), image in zip(cases, images):
                expected = service.reconstruct(digit, setting)
                assert np.abs(np.reshape(image, (28, 28)) - expected).max() < TOLERANCE, (engine, digit)
            digit, vector = cases[1]
            grid = page.evaluate("""async ([digit, vector, engine]) => {
                const m = await import('/static/engines/decoder.js');
                const buffer = await (await fetch('/api/decoder')).arrayBuffer();
                const kernel = engine === 'wasm' ? await (await import('/static/engines/decoder-wasm.js')).loadKernel(1) : null;
                const sweep = m.parseDecoder(buffer, kernel).sweep(digit, vector);
                return {perturbations: sweep.perturbations, shape: sweep.images.shape, data: Array.from(sweep.images.data)};
            }""", [digit, vector.tolist(), engine])
            assert grid["perturbations"] == pytest.approx(SWEEP_STEPS.tolist())
            expected = service.sweep(digit, vector)
            assert grid["shape"] == list(expected.shape)
            assert np.abs(np.reshape(grid["data"], expected.shape) - expected).max() < TOLERANCE, engine
    finally:
        context.close()
    assert not errors.unexpected()


def slider_vector(page) -> tuple[int, np.ndarray]:
    digit, values = page.evaluate("""() => [Number(document.getElementById('recon-digit').value),
        Array.from({length: 16}, (_, d) => Number(document.getElementById(`slider-${d}`).value))]""")
    return digit, np.asarray(values, np.float32)


@pytest.mark.browser
def test_sliders_and_grid_are_drawn_by_the_page_decoder(browser, live_server, app):
    service = app.extensions["models"]["capsnet"]
    context, page, errors, requests = open_page(browser, live_server)
    try:
        page.evaluate(LOAD)
        canvas = page.get_by_test_id("reconstruction")
        canvas.scroll_into_view_if_needed()
        for slider, key in (("slider-0", "End"), ("slider-3", "Home"), ("slider-7", "ArrowRight")):
            page.get_by_test_id(slider).focus()
            page.keyboard.press(key)
            expect(canvas).to_have_attribute("data-decoder", "page")
            digit, vector = slider_vector(page)
            drawn = canvas_rgba(page, "reconstruction")[..., 0].ravel() / 255
            assert np.abs(drawn - service.reconstruct(digit, vector).ravel()).max() <= TOLERANCE + 0.5 / 255

        page.get_by_role("button", name="Show the perturbation grid").click()
        expect(page.get_by_test_id("sweep")).to_have_attribute("data-decoder", "page")
        expect(page.get_by_test_id("sweep")).to_be_visible()
        assert not [r for r in requests if r.startswith("POST /api/reconstruct") or r.startswith("POST /api/sweep")]
        assert requests.count("GET /api/decoder") >= 1
    finally:
        context.close()
    assert not errors.unexpected()


@pytest.mark.browser
def test_without_the_weights_the_server_decodes(browser, live_server, app):
    service = app.extensions["models"]["capsnet"]
    context, page, errors, requests = open_page(browser, live_server, block_decoder=True)
    try:
        assert page.evaluate(f"{LOAD}.then((d) => d === null)")
        canvas = page.get_by_test_id("reconstruction")
        page.get_by_test_id("slider-2").focus()
        page.keyboard.press("End")
        expect(canvas).to_have_attribute("data-decoder", "server")
        assert "POST /api/reconstruct" in requests
        digit, vector = slider_vector(page)
        drawn = canvas_rgba(page, "reconstruction")[..., 0].ravel() / 255
        assert np.abs(drawn - service.reconstruct(digit, vector).ravel()).max() <= TOLERANCE
        page.get_by_role("button", name="Show the perturbation grid").click()
        expect(page.get_by_test_id("sweep")).to_have_attribute("data-decoder", "server")
    finally:
        context.close()
    assert not errors.unexpected()
