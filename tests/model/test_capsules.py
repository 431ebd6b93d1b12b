"""squash, capsule_length and PrimaryCaps against hand-computed numbers and a numpy route."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from model.capsules import PrimaryCaps, capsule_length, squash


def np_squash(s: np.ndarray, axis: int = -1) -> np.ndarray:
    """Eq. 1 written directly: v = |s|^2 / (1 + |s|^2) * s / |s| (no epsilon, float64)."""
    s = np.asarray(s, np.float64)
    norm = np.linalg.norm(s, axis=axis, keepdims=True)
    return norm**2 / (1.0 + norm**2) * s / norm


# ---------------------------------------------------------------- squash on hand-computed vectors

def test_squash_3_4_vector():
    # |s| = sqrt(9 + 16) = 5, |s|^2 = 25 -> length 25 / 26 = 0.9615384...
    # direction s / |s| = [0.6, 0.8] -> v = 25/26 * [0.6, 0.8] = [0.5769230..., 0.7692307...]
    v = np.asarray(squash(np.array([3.0, 4.0], np.float32)))
    np.testing.assert_allclose(v, [15.0 / 26.0, 20.0 / 26.0], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(v), 25.0 / 26.0, rtol=1e-6)
    # direction kept: v is parallel to s (2-D cross product 3*v1 - 4*v0 = 0) and points the same way
    assert abs(3.0 * v[1] - 4.0 * v[0]) < 1e-6
    assert np.all(v > 0)


def test_squash_tiny_vector_shrinks_to_almost_zero():
    # s = [0.01, 0.02, -0.02]: |s|^2 = 0.0001 + 0.0004 + 0.0004 = 0.0009, |s| = 0.03
    # length = 0.0009 / 1.0009 = 8.99191e-4 (the vector shrinks ~33x), direction [1/3, 2/3, -2/3]
    s = np.array([0.01, 0.02, -0.02], np.float32)
    v = np.asarray(squash(s))
    length = 0.0009 / 1.0009
    np.testing.assert_allclose(np.linalg.norm(v), length, rtol=1e-4)
    np.testing.assert_allclose(v, length * np.array([1 / 3, 2 / 3, -2 / 3]), rtol=1e-4)


def test_squash_long_vector_is_just_under_one():
    # s = [30, 40]: |s| = 50, |s|^2 = 2500 -> length 2500 / 2501 = 0.99960016 (< 1, close to 1)
    v = np.asarray(squash(np.array([30.0, 40.0], np.float32)))
    length = np.linalg.norm(v)
    np.testing.assert_allclose(length, 2500.0 / 2501.0, rtol=1e-6)
    assert 0.999 < length < 1.0
    np.testing.assert_allclose(v, 2500.0 / 2501.0 * np.array([0.6, 0.8]), rtol=1e-6)


def test_squash_zero_vector_is_finite_with_finite_gradient():
    zero = tf.zeros((2, 4))
    with tf.GradientTape() as tape:
        tape.watch(zero)
        v = squash(zero)
        total = tf.reduce_sum(v)
    gradient = tape.gradient(total, zero).numpy()
    v = v.numpy()
    assert np.all(np.isfinite(v)) and np.all(v == 0.0)
    # v = g(|s|^2) s with g(0) = 0 and g'(0) finite (thanks to the epsilon), so the Jacobian at
    # s = 0 is g(0) I + s (dg/ds)^T = 0: the gradient is finite, and exactly 0.
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient, 0.0, atol=1e-6)


def test_capsule_length_gradient_at_zero_is_finite():
    zero = tf.zeros((3, 8))
    with tf.GradientTape() as tape:
        tape.watch(zero)
        total = tf.reduce_sum(capsule_length(zero))
    gradient = tape.gradient(total, zero).numpy()
    assert np.all(np.isfinite(gradient))
    # d sqrt(|s|^2 + eps) / ds = s / sqrt(|s|^2 + eps) = 0 at s = 0
    np.testing.assert_allclose(gradient, 0.0, atol=1e-6)


def test_squash_matches_numpy_on_a_batch_and_never_reaches_one():
    rng = np.random.default_rng(0)
    s = rng.normal(scale=rng.uniform(0.01, 10.0, size=(4, 5, 1)), size=(4, 5, 8))
    v = np.asarray(squash(s.astype(np.float32)))
    assert v.shape == (4, 5, 8)
    np.testing.assert_allclose(v, np_squash(s), rtol=1e-4, atol=1e-7)
    lengths = np.linalg.norm(v, axis=-1)
    assert np.all(lengths < 1.0)
    # length = n^2 / (1 + n^2) is increasing in n = |s|: the order of the lengths is kept
    order = np.argsort(np.linalg.norm(s, axis=-1).ravel())
    assert np.all(np.diff(lengths.ravel()[order]) >= -1e-6)


def test_squash_along_another_axis():
    rng = np.random.default_rng(1)
    s = rng.normal(size=(2, 3, 4)).astype(np.float32)
    v = np.asarray(squash(s, axis=1))  # vectors of 3 along axis 1
    np.testing.assert_allclose(v, np_squash(s, axis=1), rtol=1e-5, atol=1e-7)


def test_capsule_length_on_hand_computed_vectors():
    vectors = np.array([[[3.0, 4.0, 0.0], [1.0, 2.0, 2.0]],  # 5 and sqrt(1 + 4 + 4) = 3
                        [[0.6, 0.0, 0.8], [0.0, 0.0, 0.0]]], np.float32)  # 1 and 0
    lengths = np.asarray(capsule_length(vectors))
    assert lengths.shape == (2, 2)
    np.testing.assert_allclose(lengths[0], [5.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(lengths[1, 0], 1.0, rtol=1e-6)
    # the zero capsule's length is sqrt(eps) = sqrt(1e-7) = 3.2e-4: finite and ~0
    assert 0.0 <= lengths[1, 1] < 1e-3
    # along another axis: columns of [[3, 4, 0], [1, 2, 2]] -> sqrt(9+1), sqrt(16+4), sqrt(0+4)
    np.testing.assert_allclose(np.asarray(capsule_length(vectors[0], axis=0)),
                               [np.sqrt(10.0), np.sqrt(20.0), 2.0], rtol=1e-6)


# ---------------------------------------------------------------- PrimaryCaps

def np_conv_valid(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Plain loops over output positions: x (b, h, w, c), kernel (k, k, c, f)."""
    k = kernel.shape[0]
    side_h = (x.shape[1] - k) // stride + 1
    side_w = (x.shape[2] - k) // stride + 1
    out = np.zeros((x.shape[0], side_h, side_w, kernel.shape[-1]))
    for r in range(side_h):
        for c in range(side_w):
            patch = x[:, r * stride:r * stride + k, c * stride:c * stride + k, :]
            out[:, r, c, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2])) + bias
    return out


def test_primary_caps_small_layer_against_numpy():
    # 7x7x4 input, 3x3 kernel stride 2 -> (7 - 3) // 2 + 1 = 3 -> 3*3 positions * 2 types = 18 capsules of 3
    layer = PrimaryCaps(capsule_types=2, capsule_dim=3, kernel_size=3, strides=2)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 7, 7, 4)).astype(np.float32)
    pre, caps = (np.asarray(t) for t in layer(x))
    assert pre.shape == caps.shape == (2, 18, 3)
    assert layer.compute_output_shape((None, 7, 7, 4)) == ((None, 18, 3), (None, 18, 3))
    kernel, bias = (np.asarray(w) for w in layer.conv.weights)
    conv = np_conv_valid(x.astype(np.float64), kernel, bias, stride=2)  # (2, 3, 3, 6)
    # capsule i = (row * 3 + col) * 2 + type holds channels type*3 .. type*3+2 of that position
    expected = np.empty((2, 18, 3))
    for row in range(3):
        for col in range(3):
            for kind in range(2):
                expected[:, (row * 3 + col) * 2 + kind] = conv[:, row, col, kind * 3:kind * 3 + 3]
    np.testing.assert_allclose(pre, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(caps, np_squash(expected), rtol=1e-4, atol=1e-6)
    assert np.all(np.linalg.norm(caps, axis=-1) < 1.0)


def test_primary_caps_paper_shapes():
    layer = PrimaryCaps()
    # (20 - 9) // 2 + 1 = 6 -> 6 * 6 * 32 = 1152 capsules of 8
    assert layer.compute_output_shape((None, 20, 20, 256)) == ((None, 1152, 8), (None, 1152, 8))
    pre, caps = layer(np.zeros((1, 20, 20, 256), np.float32))
    assert tuple(pre.shape) == tuple(caps.shape) == (1, 1152, 8)
    # zero input -> each capsule is the conv bias (zero at init) -> squash gives zero, no NaN
    assert np.all(np.isfinite(np.asarray(caps)))
    assert layer.count_params() == 9 * 9 * 256 * 256 + 256  # 5,308,672


def test_primary_caps_config_round_trip():
    layer = PrimaryCaps(capsule_types=4, capsule_dim=2, kernel_size=5, strides=1, name="pc")
    clone = PrimaryCaps.from_config(layer.get_config())
    assert (clone.capsule_types, clone.capsule_dim, clone.kernel_size, clone.strides) == (4, 2, 5, 1)


@pytest.mark.parametrize("dims", [2, 8, 16])
def test_squash_output_length_formula(dims):
    # all-ones vector of d dims: |s|^2 = d -> length d / (1 + d)
    v = np.asarray(squash(np.ones((dims,), np.float32)))
    np.testing.assert_allclose(np.linalg.norm(v), dims / (1.0 + dims), rtol=1e-6)
