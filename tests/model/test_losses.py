"""margin_loss (eq. 4) and reconstruction_loss against numbers computed by hand."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from model.losses import margin_loss, reconstruction_loss


def value(tensor) -> float:
    return float(np.asarray(tensor))


def test_margin_loss_hit():
    # label 0, lengths [0.95, 0.05, 0.3]:
    #   present: max(0, 0.9 - 0.95)^2 = 0
    #   absent:  0.5 * max(0, 0.05 - 0.1)^2 = 0;  0.5 * max(0, 0.3 - 0.1)^2 = 0.5 * 0.04 = 0.02
    assert value(margin_loss(np.array([0]), np.array([[0.95, 0.05, 0.3]], np.float32))) == \
        pytest.approx(0.02, rel=1e-5)


def test_margin_loss_miss():
    # label 0, lengths [0.2, 0.8, 0.05]:
    #   present: (0.9 - 0.2)^2 = 0.49;  absent: 0.5 * (0.8 - 0.1)^2 = 0.245;  0.5 * 0 = 0
    #   total 0.735
    assert value(margin_loss(np.array([0]), np.array([[0.2, 0.8, 0.05]], np.float32))) == \
        pytest.approx(0.735, rel=1e-5)


def test_margin_loss_averages_over_the_batch():
    lengths = np.array([[0.95, 0.05, 0.3], [0.2, 0.8, 0.05]], np.float32)
    # (0.02 + 0.735) / 2 = 0.3775 (a mean over examples, the sum over capsules)
    assert value(margin_loss(np.array([0, 0]), lengths)) == pytest.approx(0.3775, rel=1e-5)
    # the same lengths with labels [2, 1]:
    #   example 1: present 0.3 -> (0.6)^2 = 0.36; absent 0.95 -> 0.5 * 0.85^2 = 0.36125; 0.05 -> 0
    #              = 0.72125
    #   example 2: present 0.8 -> (0.1)^2 = 0.01; absent 0.2 -> 0.5 * 0.01 = 0.005; 0.05 -> 0
    #              = 0.015
    #   mean (0.72125 + 0.015) / 2 = 0.368125
    assert value(margin_loss(np.array([2, 1]), lengths)) == pytest.approx(0.368125, rel=1e-5)


def test_margin_loss_on_ten_capsules():
    # all ten lengths 0.5, label 3: present (0.9 - 0.5)^2 = 0.16; nine absent 0.5 * 0.4^2 = 0.08 each
    # total 0.16 + 9 * 0.08 = 0.88
    lengths = np.full((1, 10), 0.5, np.float32)
    assert value(margin_loss(np.array([3]), lengths)) == pytest.approx(0.88, rel=1e-5)
    # exactly on the margins costs nothing: present 0.9, absent 0.1
    lengths = np.full((1, 10), 0.1, np.float32)
    lengths[0, 7] = 0.9
    assert value(margin_loss(np.array([7]), lengths)) == pytest.approx(0.0, abs=1e-7)
    # labels given as floats (as a dataset may) are read as class indices
    assert value(margin_loss(np.array([7.0], np.float32), lengths)) == pytest.approx(0.0, abs=1e-7)


def test_margin_loss_parameters():
    # m+ = 0.8, m- = 0.2, lambda = 1: label 1, lengths [0.5, 0.5]
    #   present (0.8 - 0.5)^2 = 0.09; absent 1 * (0.5 - 0.2)^2 = 0.09 -> 0.18
    loss = margin_loss(np.array([1]), np.array([[0.5, 0.5]], np.float32),
                       m_plus=0.8, m_minus=0.2, down_weight=1.0)
    assert value(loss) == pytest.approx(0.18, rel=1e-5)


def test_margin_loss_gradient():
    # d/dl of (0.9 - l)^2 at l = 0.5 is -2 * 0.4 = -0.8; of 0.5 (l - 0.1)^2 at l = 0.3 is 0.2;
    # at l = 0.05 (under m-) it is 0; divided by the batch size 2
    lengths = tf.constant([[0.5, 0.3, 0.05], [0.95, 0.3, 0.05]], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(lengths)
        loss = margin_loss(tf.constant([0, 0]), lengths)
    gradient = tape.gradient(loss, lengths).numpy()
    np.testing.assert_allclose(gradient, [[-0.4, 0.1, 0.0], [0.0, 0.1, 0.0]], rtol=1e-5, atol=1e-7)


def test_reconstruction_loss_small_images():
    images = np.array([np.ones((2, 2, 1)), np.zeros((2, 2, 1))], np.float32)
    reconstructions = np.array([np.zeros((2, 2, 1)), np.full((2, 2, 1), 0.5)], np.float32)
    # image 1: 4 pixels off by 1 -> 4; image 2: 4 pixels off by 0.5 -> 4 * 0.25 = 1
    # mean over the batch (4 + 1) / 2 = 2.5; * 0.0005 = 0.00125
    assert value(reconstruction_loss(images, reconstructions)) == pytest.approx(0.00125, rel=1e-5)
    # another weight: 0.1 * 2.5 = 0.25
    assert value(reconstruction_loss(images, reconstructions, weight=0.1)) == pytest.approx(0.25, rel=1e-5)


def test_reconstruction_loss_mnist_shape():
    # a white 28x28 image reconstructed as black: 784 squared errors of 1 -> 0.0005 * 784 = 0.392
    images = np.ones((3, 28, 28, 1), np.float32)
    assert value(reconstruction_loss(images, np.zeros_like(images))) == pytest.approx(0.392, rel=1e-5)
    # a perfect reconstruction costs nothing
    assert value(reconstruction_loss(images, images)) == 0.0
    # the shape of the reconstruction may differ as long as the pixel count matches
    flat = np.zeros((3, 784), np.float32)
    assert value(reconstruction_loss(images, flat)) == pytest.approx(0.392, rel=1e-5)


def test_reconstruction_loss_against_numpy():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(5, 28, 28, 1)).astype(np.float32)
    recon = rng.uniform(size=(5, 28, 28, 1)).astype(np.float32)
    expected = 0.0005 * np.mean([np.sum((images[n].astype(np.float64) - recon[n]) ** 2)
                                 for n in range(5)])
    assert value(reconstruction_loss(images, recon)) == pytest.approx(expected, rel=1e-5)


def test_the_capsnets_training_loss_is_margin_plus_reconstruction_from_the_true_capsule():
    """CapsNet.compute_loss (what fit minimises) against the two terms computed in numpy, with
    the decoder fed the TRUE digit's capsule, not the predicted one."""
    import keras

    from model.capsnet import build_capsnet
    keras.utils.set_random_seed(5)
    model = build_capsnet()
    images = np.random.default_rng(3).random((3, 28, 28, 1)).astype(np.float32)
    labels = np.array([2, 5, 9])
    outputs = model(images)
    lengths = np.asarray(outputs["lengths"], np.float64)
    present = np.eye(10)[labels]
    margin = (present * np.maximum(0.9 - lengths, 0) ** 2
              + 0.5 * (1 - present) * np.maximum(lengths - 0.1, 0) ** 2).sum(-1).mean()
    decoded = np.asarray(model.decode(outputs["digit_caps"], labels), np.float64)
    sse = ((images.astype(np.float64) - decoded) ** 2).reshape(3, -1).sum(-1).mean()
    loss = value(model.compute_loss(images, labels, outputs, training=True))
    assert loss == pytest.approx(margin + 0.0005 * sse, rel=1e-5)
