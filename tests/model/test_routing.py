"""routing_by_agreement (Procedure 1) on tiny hand-made cases, and DigitCaps' prediction vectors."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from model.digit_caps import DigitCaps
from model.routing import routing_by_agreement


def np_routing(u_hat: np.ndarray, iterations: int) -> dict:
    """Procedure 1 with explicit loops, float64: u_hat (batch, inputs, parents, dim)."""
    batch, inputs, parents, dim = u_hat.shape
    logits_all, coupling_all, caps_all = [], [], []
    b = np.zeros((batch, inputs, parents))
    for r in range(iterations):
        c = np.exp(b) / np.exp(b).sum(axis=-1, keepdims=True)
        v = np.zeros((batch, parents, dim))
        for n in range(batch):
            for j in range(parents):
                s = sum(c[n, i, j] * u_hat[n, i, j] for i in range(inputs))
                norm2 = float(s @ s)
                v[n, j] = norm2 / (1.0 + norm2) * s / np.sqrt(norm2) if norm2 > 0 else 0.0
        logits_all.append(b.copy())
        coupling_all.append(c)
        caps_all.append(v)
        if r < iterations - 1:
            for n in range(batch):
                for i in range(inputs):
                    for j in range(parents):
                        b[n, i, j] += u_hat[n, i, j] @ v[n, j]
    return {"logits": np.stack(logits_all, 1), "coupling": np.stack(coupling_all, 1),
            "digit_caps": np.stack(caps_all, 1), "final": caps_all[-1]}


def route(u_hat, iterations):
    return {k: np.asarray(v) for k, v in
            routing_by_agreement(tf.constant(u_hat, tf.float32), iterations).items()}


# Batch 1, 3 input capsules, 2 parents, dim 2.
#   parent 0: inputs predict [1, 0], [1, 0], [-1, 0]
#   parent 1: inputs predict [0, 1], [0, -1], [0, 1]
HAND = np.array([[[[1.0, 0.0], [0.0, 1.0]],
                  [[1.0, 0.0], [0.0, -1.0]],
                  [[-1.0, 0.0], [0.0, 1.0]]]])  # (1, 3, 2, 2)


def test_one_iteration_by_hand():
    out = route(HAND, 1)
    # b = 0 -> c_ij = 1/2 for every input and parent
    np.testing.assert_allclose(out["coupling"][0, 0], np.full((3, 2), 0.5), rtol=1e-6)
    np.testing.assert_allclose(out["logits"][0, 0], 0.0)
    # s_0 = 0.5 * ([1,0] + [1,0] + [-1,0]) = [0.5, 0]; |s_0|^2 = 0.25 -> v_0 = 0.25/1.25 * [1, 0] = [0.2, 0]
    # s_1 = 0.5 * ([0,1] + [0,-1] + [0,1]) = [0, 0.5]                 -> v_1 = [0, 0.2]
    expected = np.array([[0.2, 0.0], [0.0, 0.2]])
    np.testing.assert_allclose(out["final"][0], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out["digit_caps"][0, 0], expected, rtol=1e-5, atol=1e-7)


def test_two_iterations_by_hand():
    out = route(HAND, 2)
    # b_ij = u_hat_{j|i} . v_j with v_0 = [0.2, 0], v_1 = [0, 0.2]:
    #   input 0: [ 0.2,  0.2]   input 1: [ 0.2, -0.2]   input 2: [-0.2,  0.2]
    logits = np.array([[0.2, 0.2], [0.2, -0.2], [-0.2, 0.2]])
    np.testing.assert_allclose(out["logits"][0, 1], logits, rtol=1e-5)
    # softmax of two logits = sigmoid of their difference: sigmoid(0.4) = 0.5986877
    up = 1.0 / (1.0 + np.exp(-0.4))
    coupling = np.array([[0.5, 0.5], [up, 1 - up], [1 - up, up]])
    np.testing.assert_allclose(out["coupling"][0, 1], coupling, rtol=1e-5)
    # s_0 = 0.5*[1,0] + 0.5986877*[1,0] + 0.4013123*[-1,0] = [0.6973754, 0]
    # |s_0|^2 = 0.4863325 -> length 0.4863325 / 1.4863325 = 0.3272032; s_1 symmetric on the y axis
    s = 0.5 + up - (1 - up)
    length = s**2 / (1 + s**2)
    np.testing.assert_allclose(length, 0.3272032, rtol=1e-5)  # the arithmetic above
    np.testing.assert_allclose(out["final"][0], [[length, 0.0], [0.0, length]], rtol=1e-5, atol=1e-7)
    # the first iteration is still recorded unchanged
    np.testing.assert_allclose(out["digit_caps"][0, 0], [[0.2, 0.0], [0.0, 0.2]], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("iterations", [1, 2, 3, 5])
def test_matches_numpy_procedure(iterations):
    rng = np.random.default_rng(iterations)
    u_hat = rng.normal(size=(2, 5, 4, 3))
    out = route(u_hat, iterations)
    expected = np_routing(u_hat, iterations)
    for key in ("logits", "coupling", "digit_caps", "final"):
        np.testing.assert_allclose(out[key], expected[key], rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("iterations,parents,dim", [(1, 2, 2), (3, 10, 4), (10, 3, 3)])
def test_shapes_and_iteration_count(iterations, parents, dim):
    u_hat = np.random.default_rng(0).normal(size=(1, 3, parents, dim))
    out = route(u_hat, iterations)
    assert out["logits"].shape == (1, iterations, 3, parents)
    assert out["coupling"].shape == (1, iterations, 3, parents)
    assert out["digit_caps"].shape == (1, iterations, parents, dim)
    assert out["final"].shape == (1, parents, dim)
    np.testing.assert_array_equal(out["final"], out["digit_caps"][:, -1])


def test_coupling_sums_to_one_and_first_is_uniform():
    u_hat = np.random.default_rng(3).normal(scale=2.0, size=(2, 3, 10, 4))
    out = route(u_hat, 6)
    np.testing.assert_allclose(out["coupling"].sum(axis=-1), 1.0, rtol=1e-5)  # every iteration
    assert np.all(out["coupling"] >= 0)
    np.testing.assert_allclose(out["coupling"][:, 0], 0.1, rtol=1e-6)  # 1 / 10 parents
    np.testing.assert_allclose(out["logits"][:, 0], 0.0)
    # from iteration 2 on the coupling is no longer uniform
    assert np.abs(out["coupling"][:, 1] - 0.1).max() > 1e-3


def test_agreeing_inputs_pull_their_coupling_to_one_parent():
    # 3 inputs, 3 parents, dim 3. Every input predicts [2, 0, 0] for parent 0 (they agree);
    # their predictions for parents 1 and 2 point in different directions (they disagree).
    u_hat = np.zeros((1, 3, 3, 3))
    u_hat[0, :, 0] = [2.0, 0.0, 0.0]
    u_hat[0, :, 1] = [[0.0, 2.0, 0.0], [0.0, 0.0, 2.0], [0.0, -2.0, 0.0]]
    u_hat[0, :, 2] = [[0.0, 0.0, -2.0], [0.0, -2.0, 0.0], [0.0, 0.0, 2.0]]
    out = route(u_hat, 10)
    to_parent_0 = out["coupling"][0, :, :, 0]  # (iterations, inputs)
    # iteration 1: 1/3; then s_0 = 1/3 * 3 * [2,0,0] = [2,0,0] -> v_0 = 4/5 [1,0,0], b_i0 = 2 * 0.8 = 1.6
    np.testing.assert_allclose(to_parent_0[0], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(out["logits"][0, 1, :, 0], 1.6, rtol=1e-5)
    # rises at every iteration for every input, ending close to 1
    assert np.all(np.diff(to_parent_0, axis=0) > 0)
    assert np.all(to_parent_0[-1] > 0.9)
    # so parent 0 ends up the longest capsule, longer than after one iteration
    lengths = np.linalg.norm(out["digit_caps"][0], axis=-1)  # (iterations, parents)
    assert np.argmax(lengths[-1]) == 0
    assert lengths[-1, 0] > lengths[0, 0]
    assert lengths[-1, 1] < lengths[0, 1] and lengths[-1, 2] < lengths[0, 2]


def test_logits_are_per_example():
    # example 0: the inputs agree on parent 0; example 1: the same vectors, parents swapped
    single = np.zeros((3, 2, 2))
    single[:, 0] = [1.5, 0.5]
    single[:, 1] = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]
    u_hat = np.stack([single, single[:, ::-1]])  # (2, 3, 2, 2)
    out = route(u_hat, 3)
    final = out["coupling"][:, -1]  # (2, 3, 2)
    assert np.all(final[0, :, 0] > 0.5)
    assert np.all(final[1, :, 1] > 0.5)
    # the second example is the mirror image of the first: its coupling is the first one swapped
    np.testing.assert_allclose(final[1], final[0][:, ::-1], rtol=1e-5)
    # and each example alone gives the same as inside the batch
    np.testing.assert_allclose(route(u_hat[1:], 3)["coupling"][0], out["coupling"][1], rtol=1e-5)


@pytest.mark.parametrize("iterations", [0, 11, -1])
def test_invalid_iteration_counts(iterations):
    with pytest.raises(ValueError):
        routing_by_agreement(tf.zeros((1, 3, 2, 2)), iterations)


def test_gradient_flows_through_the_last_iteration_only():
    # The coupling of the last iteration is treated as a constant: the gradient must equal that
    # of squash(sum_i c_ij u_hat_ij) with c_ij fixed to the numpy procedure's last coupling.
    rng = np.random.default_rng(4)
    u_np = rng.normal(size=(1, 4, 3, 2))
    weights = tf.constant(rng.normal(size=(1, 3, 2)), tf.float32)
    u_hat = tf.constant(u_np, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(u_hat)
        total = tf.reduce_sum(routing_by_agreement(u_hat, 3)["final"] * weights)
    gradient = tape.gradient(total, u_hat).numpy()

    c_last = tf.constant(np_routing(u_np, 3)["coupling"][:, -1], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(u_hat)
        s = tf.einsum("bij,bijd->bjd", c_last, u_hat)
        n2 = tf.reduce_sum(s * s, -1, keepdims=True)
        total = tf.reduce_sum(n2 / (1 + n2) * s / tf.sqrt(n2) * weights)
    expected = tape.gradient(total, u_hat).numpy()
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient, expected, rtol=1e-3, atol=1e-5)


def test_undetached_routing_is_differentiated_through_every_iteration():
    """detach=False (the page's saliency): the gradient is the full derivative, checked against
    a central finite difference of the numpy procedure."""
    rng = np.random.default_rng(6)
    u_np = rng.normal(size=(1, 4, 3, 2))
    weights = rng.normal(size=(1, 3, 2))
    u_hat = tf.constant(u_np, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(u_hat)
        total = tf.reduce_sum(routing_by_agreement(u_hat, 3, detach=False)["final"] * weights)
    gradient = tape.gradient(total, u_hat).numpy()
    step, index = 1e-6, (0, 2, 1, 0)
    plus, minus = u_np.copy(), u_np.copy()
    plus[index] += step
    minus[index] -= step
    numeric = ((np_routing(plus, 3)["final"] * weights).sum()
               - (np_routing(minus, 3)["final"] * weights).sum()) / (2 * step)
    assert gradient[index] == pytest.approx(numeric, rel=1e-4)
    # and it differs from the training gradient, which holds the couplings fixed
    with tf.GradientTape() as tape:
        tape.watch(u_hat)
        detached = tf.reduce_sum(routing_by_agreement(u_hat, 3)["final"] * weights)
    assert not np.allclose(tape.gradient(detached, u_hat).numpy(), gradient)


# ---------------------------------------------------------------- DigitCaps

def test_digit_caps_prediction_vectors_and_routing():
    layer = DigitCaps(num_capsules=3, capsule_dim=4, routing_iterations=2)
    rng = np.random.default_rng(5)
    primary = rng.normal(size=(2, 5, 2)).astype(np.float32)
    out = {k: np.asarray(v) for k, v in layer(primary).items()}
    W = np.asarray(layer.transform)  # (5 inputs, 2 dims in, 3 * 4)
    assert W.shape == (5, 2, 12)
    # u_hat_{j|i} = u_i W_i, parent j's 4 dims are columns 4j .. 4j+3
    expected = np.empty((2, 5, 3, 4))
    for n in range(2):
        for i in range(5):
            for j in range(3):
                expected[n, i, j] = primary[n, i] @ W[i][:, 4 * j:4 * j + 4]
    np.testing.assert_allclose(out["prediction_vectors"], expected, rtol=1e-5, atol=1e-6)
    routed = np_routing(expected, 2)
    np.testing.assert_allclose(out["final"], routed["final"], rtol=1e-4, atol=1e-6)
    assert out["coupling"].shape == (2, 2, 5, 3)
    # routing_iterations at call time overrides the layer's
    assert np.asarray(layer(primary, routing_iterations=4)["coupling"]).shape == (2, 4, 5, 3)
    with pytest.raises(ValueError):  # 0 is an error, not the layer's default
        layer(primary, routing_iterations=0)


@pytest.mark.parametrize("iterations", [0, 11])
def test_digit_caps_rejects_invalid_iterations(iterations):
    with pytest.raises(ValueError):
        DigitCaps(routing_iterations=iterations)
