"""Routing by agreement (paper, Procedure 1): the one place the routing loop lives."""
from __future__ import annotations

from keras import ops

from model.capsules import squash
from model.spec import check_routing_iterations


def routing_by_agreement(prediction_vectors, iterations: int, detach: bool = True) -> dict:
    """Route prediction vectors u_hat_{j|i} (batch, 1152, 10, 16) to 10 digit capsules.

    Returns, stacked over iterations on axis 1: `logits` b_ij and `coupling` c_ij
    (batch, iterations, 1152, 10) as used in each iteration, `digit_caps` v_j
    (batch, iterations, 10, 16) after each iteration; and `final` v_j (batch, 10, 16).
    """
    check_routing_iterations(iterations)
    # Training: gradients flow only through the last iteration; earlier ones just choose c_ij
    # (~10% faster). `detach=False` differentiates through every iteration (the page's saliency).
    detached = ops.stop_gradient(prediction_vectors) if detach else prediction_vectors
    # Logits are per example: b starts at 0, so c_ij is uniform (1/10) in iteration 1.
    logits = ops.zeros_like(prediction_vectors[..., 0])  # (batch, 1152, 10)
    all_logits, all_coupling, all_digit_caps = [], [], []
    for iteration in range(iterations):
        last = iteration == iterations - 1
        u_hat = prediction_vectors if last else detached
        coupling = ops.softmax(logits, axis=-1)  # over the 10 digit capsules
        weighted_sum = ops.einsum("bij,bijd->bjd", coupling, u_hat)  # s_j (batch, 10, 16)
        digit_caps = squash(weighted_sum)
        all_logits.append(logits)
        all_coupling.append(coupling)
        all_digit_caps.append(digit_caps)
        if not last:
            logits = logits + ops.einsum("bijd,bjd->bij", u_hat, digit_caps)  # agreement
    return {
        "logits": ops.stack(all_logits, axis=1),
        "coupling": ops.stack(all_coupling, axis=1),
        "digit_caps": ops.stack(all_digit_caps, axis=1),
        "final": all_digit_caps[-1],
    }
