"""DigitCaps: prediction vectors u_hat_{j|i} = W_ij u_i, then routing by agreement."""
from __future__ import annotations

import keras
from keras import ops

from model.routing import routing_by_agreement
from model.spec import ROUTING_ITERATIONS, check_routing_iterations


@keras.saving.register_keras_serializable(package="capsnet")
class DigitCaps(keras.layers.Layer):
    """(batch, 1152, 8) primary capsules -> 10 digit capsules of 16 dimensions."""

    def __init__(self, num_capsules: int = 10, capsule_dim: int = 16,
                 routing_iterations: int = ROUTING_ITERATIONS, **kwargs):
        super().__init__(**kwargs)
        check_routing_iterations(routing_iterations)
        self.num_capsules = num_capsules
        self.capsule_dim = capsule_dim
        self.routing_iterations = routing_iterations

    def build(self, input_shape):
        self.input_capsules, self.input_dim = int(input_shape[1]), int(input_shape[2])
        # Capsules-major so that u_hat is one batched matmul (3x faster than einsum on CPU).
        self.transform = self.add_weight(
            name="transform",
            shape=(self.input_capsules, self.input_dim, self.num_capsules * self.capsule_dim),
            # Large enough that s_j is not vanishingly short at the start: squash scales
            # short vectors by |s|^2, and with smaller weights training stalls for epochs.
            initializer=keras.initializers.RandomNormal(stddev=0.05),
        )

    def prediction_vectors(self, primary_caps):
        """u_hat_{j|i}: (batch, 1152, 8) -> (batch, 1152, 10, 16)."""
        per_capsule = ops.transpose(primary_caps, (1, 0, 2))  # (1152, batch, 8)
        u_hat = ops.matmul(per_capsule, self.transform)  # (1152, batch, 160)
        u_hat = ops.transpose(u_hat, (1, 0, 2))
        return ops.reshape(u_hat, (-1, self.input_capsules, self.num_capsules, self.capsule_dim))

    def call(self, primary_caps, routing_iterations: int | None = None, detach_routing: bool = True):
        u_hat = self.prediction_vectors(primary_caps)
        if routing_iterations is None:  # not `or`: 0 must be rejected, not mean the default
            routing_iterations = self.routing_iterations
        routed = routing_by_agreement(u_hat, routing_iterations, detach=detach_routing)
        return {"prediction_vectors": u_hat, **routed}

    def get_config(self):
        return {**super().get_config(), "num_capsules": self.num_capsules,
                "capsule_dim": self.capsule_dim, "routing_iterations": self.routing_iterations}
