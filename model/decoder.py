"""The decoder: one digit capsule (the others masked to 0) -> a 28x28 reconstruction."""
from __future__ import annotations

import keras
from keras import ops

from model.spec import IMAGE_SHAPE


@keras.saving.register_keras_serializable(package="capsnet")
class Decoder(keras.layers.Layer):
    """(batch, 10, 16) digit capsules and (batch,) chosen digits -> (batch, 28, 28, 1) in 0..1."""

    def __init__(self, hidden_units: tuple[int, ...] = (512, 1024), image_shape=IMAGE_SHAPE,
                 **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = tuple(hidden_units)
        self.image_shape = tuple(image_shape)
        self.hidden = [keras.layers.Dense(units, activation="relu", name=f"fc{n + 1}")
                       for n, units in enumerate(self.hidden_units)]
        pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.output_layer = keras.layers.Dense(pixels, activation="sigmoid",
                                               name=f"fc{len(self.hidden_units) + 1}")

    def build(self, input_shape):
        width = input_shape[1] * input_shape[2]
        for layer in self.hidden:
            layer.build((None, width))
            width = layer.units
        self.output_layer.build((None, width))

    def call(self, digit_caps, digits):
        mask = ops.one_hot(ops.cast(digits, "int32"), ops.shape(digit_caps)[1])  # (batch, 10)
        masked = digit_caps * ops.expand_dims(mask, -1)
        x = ops.reshape(masked, (-1, ops.shape(digit_caps)[1] * ops.shape(digit_caps)[2]))
        for layer in self.hidden:
            x = layer(x)
        return ops.reshape(self.output_layer(x), (-1, *self.image_shape))

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units,
                "image_shape": self.image_shape}
