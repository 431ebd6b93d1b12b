"""The control CNN: its math against numpy, its training and evaluation commands."""
from __future__ import annotations

import json
import re

import keras
import numpy as np
import pytest

from model.cnn import BaselineCNN, build_cnn
from support.commands import run_module
from support.digits import tiny_npz


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(3)
    return build_cnn()


def test_shapes_and_softmax(cnn):
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    out = {k: np.asarray(v) for k, v in cnn(x).items()}
    assert out["logits"].shape == out["probabilities"].shape == (4, 10)
    exp = np.exp(out["logits"] - out["logits"].max(-1, keepdims=True))
    np.testing.assert_allclose(out["probabilities"], exp / exp.sum(-1, keepdims=True), atol=1e-6)
    np.testing.assert_array_equal(out["prediction"], out["logits"].argmax(-1))


def test_architecture_is_conv_pool_three_times_then_dense(cnn):
    # 28 -> 14 -> 7 -> 4 after the three 2x2 max pools ('same' padding): 4*4*256 = 4096 inputs
    assert cnn.dense[0].kernel.shape == (4096, 328)
    assert [c.filters for c in cnn.convs] == [64, 128, 256]
    assert [c.kernel_size for c in cnn.convs] == [(5, 5), (5, 5), (3, 3)]
    # 64*(25+1) + 128*(64*25+1) + 256*(128*9+1) + 4096*328+328 + 328*192+192 + 192*10+10
    assert cnn.count_params() == 1_910_674


def test_loss_is_the_mean_cross_entropy(cnn):
    x = np.random.default_rng(1).random((3, 28, 28, 1)).astype(np.float32)
    y = np.array([1, 7, 3])
    out = cnn(x)
    loss = float(cnn.compute_loss(x, y, out, training=False))
    p = np.asarray(out["probabilities"], np.float64)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(3), y])), rel=1e-4)


def test_dropout_only_in_training(cnn):
    x = np.random.default_rng(2).random((2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(cnn(x)["logits"], cnn(x)["logits"])
    assert not np.allclose(cnn(x, training=True)["logits"], cnn(x)["logits"])


def test_config_round_trip(cnn):
    again = BaselineCNN.from_config(cnn.get_config())
    assert again.filters == (64, 128, 256) and again.dense_units == (328, 192)


@pytest.mark.slow
def test_train_and_evaluate_commands_take_the_model_name(tmp_path):
    data = tiny_npz(tmp_path / "tiny.npz")
    weights = tmp_path / "cnn.weights.h5"
    common = ["--model", "cnn", "--data", str(data), "--batch-size", "10", "--validation-size", "10",
              "--output", str(weights), "--backup-dir", str(tmp_path / "backup")]
    run_module("training.train", *common, "--epochs", "1")
    metadata = json.loads((tmp_path / "cnn.json").read_text())
    assert metadata["model"] == "cnn" and metadata["parameters"] == 1_910_674
    assert "routing_iterations" not in metadata and len(metadata["per_class_accuracy"]) >= 1
    resumed = run_module("training.train", *common, "--resume", "--epochs", "2")
    assert "Epoch 2/2" in resumed and "Epoch 1/2" not in resumed
    report = run_module("training.evaluate", "--model", "cnn", "--data", str(data), "--checkpoint", str(weights))
    last = report.strip().splitlines()[-1]
    match = re.fullmatch(r"test accuracy: (0\.\d{4}|1\.0000) on 20 images", last)
    assert match, last
    assert match.group(1) == f"{json.loads((tmp_path / 'cnn.json').read_text())['test_accuracy']:.4f}"
