"""Capsule math shared by every layer: squash and capsule length (paper, eq. 1)."""
from __future__ import annotations

import keras
from keras import ops

# Keeps sqrt differentiable at the zero vector (its gradient is infinite at 0).
EPSILON = 1e-7


def squash(vectors, axis: int = -1):
    """v = |s|^2 / (1 + |s|^2) * s / |s|: short vectors shrink to ~0, long ones to just under 1."""
    squared_norm = ops.sum(ops.square(vectors), axis=axis, keepdims=True)
    scale = squared_norm / (1.0 + squared_norm) / ops.sqrt(squared_norm + EPSILON)
    return scale * vectors


def capsule_length(vectors, axis: int = -1):
    """The length of each capsule: the probability that its entity is present."""
    return ops.sqrt(ops.sum(ops.square(vectors), axis=axis) + EPSILON)


@keras.saving.register_keras_serializable(package="capsnet")
class PrimaryCaps(keras.layers.Layer):
    """Conv 9x9 stride 2 whose 256 channels are read as 32 capsule types of 8 dimensions.

    (batch, 20, 20, 256) -> pre-squash and squashed capsules, each (batch, 1152, 8),
    ordered position-major: capsule i = (row * 6 + col) * 32 + type.
    """

    def __init__(self, capsule_types: int = 32, capsule_dim: int = 8, kernel_size: int = 9,
                 strides: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.capsule_types = capsule_types
        self.capsule_dim = capsule_dim
        self.kernel_size = kernel_size
        self.strides = strides
        self.conv = keras.layers.Conv2D(capsule_types * capsule_dim, kernel_size,
                                        strides=strides, kernel_initializer="he_normal",
                                        dtype=self.dtype_policy, name="conv")

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, conv1_maps):
        # float32 from here on even when the convolution runs in bfloat16: squash and routing need it.
        features = ops.cast(self.conv(conv1_maps), "float32")  # (batch, 6, 6, 256)
        grid = ops.shape(features)[1] * ops.shape(features)[2]
        pre_squash = ops.reshape(features, (-1, grid * self.capsule_types, self.capsule_dim))
        return pre_squash, squash(pre_squash)

    def compute_output_shape(self, input_shape):
        side = (input_shape[1] - self.kernel_size) // self.strides + 1
        shape = (input_shape[0], side * side * self.capsule_types, self.capsule_dim)
        return shape, shape

    def get_config(self):
        return {**super().get_config(), "capsule_types": self.capsule_types,
                "capsule_dim": self.capsule_dim, "kernel_size": self.kernel_size,
                "strides": self.strides}
