"""The whole network: Conv1 -> PrimaryCaps -> DigitCaps (routing) -> Decoder.

`CapsNet.call` is the ONE forward pass of the project: training, evaluation and the
server all use it, and it returns every intermediate the visualisation shows.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from model.capsules import PrimaryCaps, capsule_length
from model.decoder import Decoder
from model.digit_caps import DigitCaps
from model.losses import margin_loss, reconstruction_loss

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


@keras.saving.register_keras_serializable(package="capsnet")
class CapsNet(keras.Model):
    def __init__(self, routing_iterations: int = 3, conv_dtype: str | None = None, **kwargs):
        """`conv_dtype="mixed_bfloat16"` halves the convolutions' training time on CPUs with
        AVX512-BF16; weights stay float32, so the exported checkpoint does not change."""
        super().__init__(**kwargs)
        self.routing_iterations = routing_iterations
        self.conv_dtype = conv_dtype
        self.conv1 = keras.layers.Conv2D(256, 9, activation="relu", kernel_initializer="he_normal",
                                        dtype=conv_dtype, name="conv1")
        self.primary_caps = PrimaryCaps(dtype=conv_dtype, name="primary_caps")
        self.digit_caps = DigitCaps(num_capsules=NUM_CLASSES, routing_iterations=routing_iterations,
                                    name="digit_caps")
        self.decoder = Decoder(image_shape=IMAGE_SHAPE, name="decoder")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Accuracy(name="accuracy")

    def build(self, input_shape=(None, *IMAGE_SHAPE)):
        self.conv1.build(input_shape)
        conv1_shape = self.conv1.compute_output_shape(input_shape)
        self.primary_caps.build(conv1_shape)
        primary_shape = self.primary_caps.compute_output_shape(conv1_shape)[1]
        self.digit_caps.build(primary_shape)
        self.decoder.build((None, NUM_CLASSES, self.digit_caps.capsule_dim))
        self.built = True

    def call(self, images, labels=None, routing_iterations: int | None = None, training=None):
        """images (batch, 28, 28, 1) in 0..1 -> dict of every stage of the network.

        The decoder reconstructs from the capsule of `labels` when given (training),
        else from the predicted (longest) capsule.
        """
        conv1 = self.conv1(images)  # (batch, 20, 20, 256), after ReLU
        primary_pre_squash, primary_caps = self.primary_caps(conv1)  # (batch, 1152, 8)
        conv1 = ops.cast(conv1, "float32")
        routed = self.digit_caps(primary_caps, routing_iterations=routing_iterations)
        digit_caps = routed["final"]  # (batch, 10, 16)
        lengths = capsule_length(digit_caps)  # (batch, 10)
        prediction = ops.argmax(lengths, axis=-1)
        decoded_digit = prediction if labels is None else labels
        return {
            "conv1": conv1,
            "primary_caps_pre_squash": primary_pre_squash,
            "primary_caps": primary_caps,
            "primary_caps_lengths": capsule_length(primary_caps),
            "prediction_vectors": routed["prediction_vectors"],  # (batch, 1152, 10, 16)
            "routing_logits": routed["logits"],  # (batch, iterations, 1152, 10)
            "routing_coupling": routed["coupling"],  # (batch, iterations, 1152, 10)
            "routing_digit_caps": routed["digit_caps"],  # (batch, iterations, 10, 16)
            "routing_lengths": capsule_length(routed["digit_caps"]),  # (batch, iterations, 10)
            "digit_caps": digit_caps,
            "lengths": lengths,
            "prediction": prediction,
            "reconstruction": self.decoder(digit_caps, decoded_digit),
        }

    def decode(self, digit_caps, digits):
        """The decoder alone, for perturbed capsules: (batch, 10, 16), (batch,) -> images."""
        return self.decoder(digit_caps, digits)

    # Training: the paper's loss on the same forward pass, masked by the true label.
    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def _loss_and_metrics(self, images, labels, outputs):
        loss = (margin_loss(labels, outputs["lengths"])
                + reconstruction_loss(images, outputs["reconstruction"]))
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(labels, outputs["prediction"])
        return loss

    def train_step(self, data):
        images, labels = data
        with tf.GradientTape() as tape:
            outputs = self(images, labels=labels, training=True)
            loss = self._loss_and_metrics(images, labels, outputs)
            # Replicas' gradients are summed under tf.distribute: average them instead.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return {metric.name: metric.result() for metric in self.metrics}

    def test_step(self, data):
        images, labels = data
        self._loss_and_metrics(images, labels, self(images, training=False))
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        return {**super().get_config(), "routing_iterations": self.routing_iterations,
                "conv_dtype": self.conv_dtype}


def build_capsnet(routing_iterations: int = 3, conv_dtype: str | None = None) -> CapsNet:
    """A CapsNet with its weights created (randomly initialised)."""
    model = CapsNet(routing_iterations=routing_iterations, conv_dtype=conv_dtype, name="capsnet")
    model.build((None, *IMAGE_SHAPE))
    return model
