"""The whole CapsNet: parameters, every intermediate's shape, an independent numpy forward pass,
the decoder's masking, and the checkpoint round trip."""
from __future__ import annotations

import hashlib
import json

import keras
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from model.capsnet import CapsNet, build_capsnet
from model.checkpoint import CheckpointError, export_weights, load_capsnet, metadata_path, sha256_of
from support.digits import GALLERY


def gallery_images(labels: list[int]) -> np.ndarray:
    """The first gallery digit of each label as float32 (n, 28, 28, 1) in 0..1."""
    images = [np.asarray(Image.open(sorted(GALLERY.glob(f"{label}_*.png"))[0]).convert("L"))
              for label in labels]
    return (np.stack(images).astype(np.float32) / 255.0)[..., None]


@pytest.fixture(scope="module")
def model() -> CapsNet:
    keras.utils.set_random_seed(0)
    return build_capsnet()


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return gallery_images([3, 7])


@pytest.fixture(scope="module")
def outputs(model, images) -> dict:
    return {k: np.asarray(v) for k, v in model(images).items()}


# ---------------------------------------------------------------- parameters and shapes

def test_parameter_count(model):
    conv1 = 9 * 9 * 1 * 256 + 256  # 20,992
    primary = 9 * 9 * 256 * 256 + 256  # 5,308,672
    transform = 1152 * 8 * 10 * 16  # W_ij: 1,474,560
    decoder = (160 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 784 + 784)  # 1,411,344
    assert (conv1, primary, transform, decoder) == (20_992, 5_308_672, 1_474_560, 1_411_344)
    assert model.conv1.count_params() == conv1
    assert model.primary_caps.count_params() == primary
    assert model.digit_caps.count_params() == transform
    assert model.decoder.count_params() == decoder
    assert model.count_params() == 8_215_568 == conv1 + primary + transform + decoder
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == 8_215_568


def test_every_intermediate_shape(outputs):
    expected = {
        "conv1": (2, 20, 20, 256),
        "primary_caps_pre_squash": (2, 1152, 8),
        "primary_caps": (2, 1152, 8),
        "primary_caps_lengths": (2, 1152),
        "prediction_vectors": (2, 1152, 10, 16),
        "routing_logits": (2, 3, 1152, 10),
        "routing_coupling": (2, 3, 1152, 10),
        "routing_digit_caps": (2, 3, 10, 16),
        "routing_lengths": (2, 3, 10),
        "digit_caps": (2, 10, 16),
        "lengths": (2, 10),
        "prediction": (2,),
        "reconstruction": (2, 28, 28, 1),
    }
    assert {k: v.shape for k, v in outputs.items()} == expected
    for key, value in outputs.items():
        assert np.all(np.isfinite(value)), key


def test_batch_of_one(model, images):
    out = model(images[:1])
    assert tuple(out["digit_caps"].shape) == (1, 10, 16)
    assert tuple(out["routing_coupling"].shape) == (1, 3, 1152, 10)
    assert tuple(out["reconstruction"].shape) == (1, 28, 28, 1)
    assert tuple(out["prediction"].shape) == (1,)


@pytest.mark.parametrize("iterations", [1, 10])
def test_routing_iterations_at_call_time(model, images, iterations):
    out = {k: np.asarray(v) for k, v in model(images, routing_iterations=iterations).items()}
    assert out["routing_logits"].shape == (2, iterations, 1152, 10)
    assert out["routing_coupling"].shape == (2, iterations, 1152, 10)
    assert out["routing_digit_caps"].shape == (2, iterations, 10, 16)
    assert out["routing_lengths"].shape == (2, iterations, 10)
    np.testing.assert_allclose(out["routing_coupling"][:, 0], 0.1, rtol=1e-6)
    if iterations == 1:
        # one iteration: s_j = sum_i (1/10) u_hat_{j|i}, v_j = squash(s_j)
        s = out["prediction_vectors"].astype(np.float64).sum(axis=1) / 10.0
        n2 = np.sum(s**2, axis=-1, keepdims=True)
        np.testing.assert_allclose(out["digit_caps"], n2 / (1 + n2) * s / np.sqrt(n2),
                                   rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("iterations", [0, 11])
def test_invalid_routing_iterations_at_call_time(model, images, iterations):
    # 0 must not silently fall back to the default of 3
    with pytest.raises(ValueError):
        model(images, routing_iterations=iterations)


def test_lengths_are_the_norms_of_the_digit_capsules(outputs):
    norms = np.linalg.norm(outputs["digit_caps"].astype(np.float64), axis=-1)
    # capsule_length adds eps = 1e-7 under the square root: at most ~1e-7 / (2 * length) off
    np.testing.assert_allclose(outputs["lengths"], norms, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outputs["routing_lengths"][:, -1], outputs["lengths"], rtol=1e-6)
    np.testing.assert_array_equal(outputs["prediction"], np.argmax(outputs["lengths"], axis=-1))
    assert np.all(outputs["lengths"] < 1.0)


def test_primary_capsules_are_squashed(outputs):
    lengths = outputs["primary_caps_lengths"]
    assert np.all(lengths >= 0) and np.all(lengths < 1.0)
    np.testing.assert_allclose(lengths, np.linalg.norm(outputs["primary_caps"], axis=-1),
                               rtol=1e-5, atol=1e-5)
    pre = outputs["primary_caps_pre_squash"].astype(np.float64)
    n2 = np.sum(pre**2, axis=-1, keepdims=True)
    np.testing.assert_allclose(outputs["primary_caps"], n2 / (1 + n2) * pre / np.sqrt(n2),
                               rtol=1e-4, atol=1e-6)
    assert np.all(outputs["conv1"] >= 0)  # after ReLU
    np.testing.assert_allclose(outputs["routing_coupling"].sum(axis=-1), 1.0, rtol=1e-5)


def test_forward_pass_against_numpy(model, images, outputs):
    """Conv1 -> PrimaryCaps -> u_hat -> 3 routing iterations -> decoder, all in float64 numpy."""
    w = {v.path.split("/", 1)[1]: np.asarray(v, np.float64) for v in model.weights}
    x = images[0].astype(np.float64)  # (28, 28, 1)
    # conv1: 9x9 valid -> 20x20, 256 channels, ReLU
    patches = sliding_window_view(x, (9, 9, 1)).reshape(400, 81)
    conv1 = np.maximum(patches @ w["conv1/kernel"].reshape(81, 256) + w["conv1/bias"], 0)
    conv1 = conv1.reshape(20, 20, 256)
    np.testing.assert_allclose(outputs["conv1"][0], conv1, rtol=1e-4, atol=1e-4)
    # primary caps: 9x9 stride 2 -> 6x6x256 = 36 positions x 32 types x 8 dims
    patches = sliding_window_view(conv1, (9, 9, 256))[::2, ::2].reshape(36, 9 * 9 * 256)
    primary = patches @ w["primary_caps/conv/kernel"].reshape(-1, 256) + w["primary_caps/conv/bias"]
    u = primary.reshape(36 * 32, 8)  # capsule (row * 6 + col) * 32 + type
    np.testing.assert_allclose(outputs["primary_caps_pre_squash"][0], u, rtol=1e-3, atol=1e-4)
    n2 = np.sum(u**2, -1, keepdims=True)
    u = n2 / (1 + n2) * u / np.sqrt(n2)
    # u_hat_{j|i} = u_i W_i: (1152, 8) x (1152, 8, 160)
    u_hat = np.einsum("ik,ikm->im", u, w["digit_caps/transform"]).reshape(1152, 10, 16)
    np.testing.assert_allclose(outputs["prediction_vectors"][0], u_hat, rtol=1e-3, atol=1e-5)
    # routing, 3 iterations
    b = np.zeros((1152, 10))
    for iteration in range(3):
        c = np.exp(b) / np.exp(b).sum(-1, keepdims=True)
        np.testing.assert_allclose(outputs["routing_coupling"][0, iteration], c, rtol=1e-3, atol=1e-6)
        s = np.einsum("ij,ijd->jd", c, u_hat)
        n2 = np.sum(s**2, -1, keepdims=True)
        v = n2 / (1 + n2) * s / np.sqrt(n2)
        b = b + np.einsum("ijd,jd->ij", u_hat, v)
    np.testing.assert_allclose(outputs["digit_caps"][0], v, rtol=1e-3, atol=1e-5)
    lengths = np.linalg.norm(v, axis=-1)
    np.testing.assert_allclose(outputs["lengths"][0], lengths, rtol=1e-3, atol=1e-5)
    # decoder from the longest capsule (no label given), the others zeroed
    masked = np.zeros((10, 16))
    masked[np.argmax(lengths)] = v[np.argmax(lengths)]
    h = np.maximum(masked.reshape(160) @ w["decoder/fc1/kernel"] + w["decoder/fc1/bias"], 0)
    h = np.maximum(h @ w["decoder/fc2/kernel"] + w["decoder/fc2/bias"], 0)
    image = 1 / (1 + np.exp(-(h @ w["decoder/fc3/kernel"] + w["decoder/fc3/bias"])))
    np.testing.assert_allclose(outputs["reconstruction"][0], image.reshape(28, 28, 1),
                               rtol=1e-3, atol=1e-5)


# ---------------------------------------------------------------- the decoder's mask

def test_decoder_is_masked_by_the_given_digit(model):
    rng = np.random.default_rng(0)
    caps = rng.normal(scale=0.3, size=(2, 10, 16)).astype(np.float32)
    digits = np.array([4, 9])
    reference = np.asarray(model.decode(caps, digits))
    assert reference.shape == (2, 28, 28, 1)
    assert np.all((reference >= 0) & (reference <= 1))
    # the other nine capsules can be anything: the reconstruction does not change at all
    others = rng.normal(scale=0.5, size=caps.shape).astype(np.float32)
    others[0, 4] = caps[0, 4]
    others[1, 9] = caps[1, 9]
    np.testing.assert_array_equal(np.asarray(model.decode(others, digits)), reference)
    zeros = np.zeros_like(caps)
    zeros[0, 4], zeros[1, 9] = caps[0, 4], caps[1, 9]
    np.testing.assert_array_equal(np.asarray(model.decode(zeros, digits)), reference)
    # ... while changing the chosen capsule, or choosing another digit, does change it
    nudged = caps.copy()
    nudged[0, 4, 0] += 0.25
    changed = np.asarray(model.decode(nudged, digits))
    assert np.abs(changed[0] - reference[0]).max() > 1e-6
    np.testing.assert_array_equal(changed[1], reference[1])
    assert np.abs(np.asarray(model.decode(caps, np.array([5, 9])))[0] - reference[0]).max() > 1e-6


def test_decoder_in_call_uses_the_label_or_the_prediction(model, images, outputs):
    labels = np.array([3, 7])
    with_labels = {k: np.asarray(v) for k, v in model(images, labels=labels).items()}
    np.testing.assert_allclose(with_labels["reconstruction"],
                               np.asarray(model.decode(with_labels["digit_caps"], labels)),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        outputs["reconstruction"],
        np.asarray(model.decode(outputs["digit_caps"], outputs["prediction"])), rtol=1e-6, atol=1e-7)
    # a different label than the prediction gives a different reconstruction
    other = (outputs["prediction"] + 1) % 10
    swapped = np.asarray(model(images, labels=other)["reconstruction"])
    assert np.abs(swapped - outputs["reconstruction"]).max() > 1e-6


def test_build_capsnet_routing_iterations_and_config():
    net = build_capsnet(routing_iterations=5)
    assert net.routing_iterations == 5
    out = net(np.zeros((1, 28, 28, 1), np.float32))
    assert tuple(out["routing_logits"].shape) == (1, 5, 1152, 10)
    config = net.get_config()
    assert config["routing_iterations"] == 5 and config["conv_dtype"] is None
    with pytest.raises(ValueError):
        build_capsnet(routing_iterations=11)


# ---------------------------------------------------------------- checkpoints

def test_export_and_load_round_trip(model, images, outputs, tmp_path):
    path = tmp_path / "nested" / "capsnet.weights.h5"
    metadata = export_weights(model, path, {"epochs": 7, "test_accuracy": 0.5})
    assert path.is_file()
    meta_file = tmp_path / "nested" / "capsnet.json"
    assert metadata_path(path) == meta_file
    on_disk = json.loads(meta_file.read_text())
    assert on_disk == metadata
    assert on_disk["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert on_disk["weights_file"] == "capsnet.weights.h5"
    assert on_disk["epochs"] == 7 and on_disk["test_accuracy"] == 0.5
    # no temporary file left behind
    assert sorted(p.name for p in path.parent.iterdir()) == ["capsnet.json", "capsnet.weights.h5"]

    loaded, loaded_meta = load_capsnet(path)
    assert loaded_meta == on_disk
    for original, restored in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(original), np.asarray(restored))
    again = {k: np.asarray(v) for k, v in loaded(images).items()}
    for key in ("lengths", "digit_caps", "prediction", "reconstruction", "routing_coupling"):
        np.testing.assert_allclose(again[key], outputs[key], rtol=1e-6, atol=1e-7, err_msg=key)
    # routing iterations chosen when loading
    five, _ = load_capsnet(path, routing_iterations=5)
    assert tuple(five(images)["routing_digit_caps"].shape) == (2, 5, 10, 16)


def test_load_missing_checkpoint(tmp_path):
    path = tmp_path / "absent.weights.h5"
    with pytest.raises(CheckpointError) as error:
        load_capsnet(path)
    assert str(path) in str(error.value)
    assert "python -m training.train" in str(error.value)


def test_a_checkpoint_without_its_card_is_refused_before_it_is_read(tmp_path):
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"this is not an HDF5 file\n" * 40)
    with pytest.raises(CheckpointError, match="has no metadata with a sha256") as error:
        load_capsnet(garbage)
    assert str(garbage) in str(error.value) and sha256_of(garbage) in str(error.value)
    assert "python -m training.train" in str(error.value)


def test_a_corrupt_checkpoint_whose_card_matches_is_refused_by_the_loader(model, tmp_path):
    """Cards re-hashed to match, so that the damage passes the sha256 check and reaches the
    loader: not HDF5 at all, and a real export truncated (an interrupted copy)."""
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"this is not an HDF5 file\n" * 40)
    metadata_path(garbage).write_text(json.dumps({"sha256": sha256_of(garbage)}))
    whole = tmp_path / "whole.weights.h5"
    export_weights(model, whole, {})
    truncated = tmp_path / "truncated.weights.h5"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    metadata_path(truncated).write_text(json.dumps({"sha256": sha256_of(truncated)}))
    for path in (garbage, truncated):
        with pytest.raises(CheckpointError, match="could not be loaded") as error:
            load_capsnet(path)
        assert str(path) in str(error.value), path
        assert "git checkout -- " in str(error.value) and "python -m training.train" in str(error.value), path
