"""The control CNN: its math against numpy (its command lines: tests/training/test_train.py)."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from model.cnn import BaselineCNN, build_cnn


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
