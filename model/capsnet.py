"""The whole network: Conv1 -> PrimaryCaps -> DigitCaps (routing) -> Decoder.

`CapsNet.call` is the ONE forward pass of the project: training, evaluation and the
server all use it, and it returns every intermediate the visualisation shows.
"""
from __future__ import annotations

import keras
from keras import ops

from model.capsules import PrimaryCaps, capsule_length
from model.decoder import Decoder
from model.digit_caps import DigitCaps
from model.losses import margin_loss, reconstruction_loss
from model.spec import IMAGE_SHAPE, NUM_CLASSES, ROUTING_ITERATIONS


@keras.saving.register_keras_serializable(package="capsnet")
class CapsNet(keras.Model):
    def __init__(self, routing_iterations: int = ROUTING_ITERATIONS, conv_dtype: str | None = None,
                 image_shape: tuple[int, int, int] = IMAGE_SHAPE, **kwargs):
        """`conv_dtype="mixed_bfloat16"` halves the convolutions' training time on CPUs with
        AVX512-BF16; weights stay float32, so the exported checkpoint does not change.
        `image_shape` sets the number of primary capsules and the decoder's output
        (28x28: 6x6 positions; MultiMNIST's 36x36: 10x10)."""
        super().__init__(**kwargs)
        self.routing_iterations = routing_iterations
        self.conv_dtype = conv_dtype
        self.image_shape = tuple(image_shape)
        self.conv1 = keras.layers.Conv2D(256, 9, activation="relu", kernel_initializer="he_normal",
                                        dtype=conv_dtype, name="conv1")
        self.primary_caps = PrimaryCaps(dtype=conv_dtype, name="primary_caps")
        self.digit_caps = DigitCaps(num_capsules=NUM_CLASSES, routing_iterations=routing_iterations,
                                    name="digit_caps")
        self.decoder = Decoder(image_shape=self.image_shape, name="decoder")
        self.accuracy_tracker = keras.metrics.Accuracy(name="accuracy")

    def build(self, input_shape=None):
        input_shape = input_shape or (None, *self.image_shape)
        self.conv1.build(input_shape)
        conv1_shape = self.conv1.compute_output_shape(input_shape)
        self.primary_caps.build(conv1_shape)
        primary_shape = self.primary_caps.compute_output_shape(conv1_shape)[1]
        self.digit_caps.build(primary_shape)
        self.decoder.build((None, NUM_CLASSES, self.digit_caps.capsule_dim))
        self.built = True

    def call(self, images, labels=None, routing_iterations: int | None = None, training=None,
             detach_routing: bool = True):
        """images (batch, *image_shape) in 0..1 -> dict of every stage (shapes below: 28x28).

        The decoder reconstructs from the capsule of `labels` when given, else from the
        predicted (longest) capsule, as served; training masks by the true label in compute_loss.
        """
        conv1 = self.conv1(images)  # (batch, 20, 20, 256), after ReLU
        primary_pre_squash, primary_caps = self.primary_caps(conv1)  # (batch, 1152, 8)
        conv1 = ops.cast(conv1, "float32")
        routed = self.digit_caps(primary_caps, routing_iterations=routing_iterations,
                                 detach_routing=detach_routing)
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

    # Training: Keras' own train_step (any backend, tf.distribute included) with the paper's loss.
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Margin loss + reconstruction loss. In training the decoder reconstructs from the TRUE
        digit's capsule (the paper's masking); in evaluation from the predicted one, as served."""
        reconstruction = self.decode(y_pred["digit_caps"], y) if training else y_pred["reconstruction"]
        loss = margin_loss(y, y_pred["lengths"]) + reconstruction_loss(x, reconstruction)
        return per_replica(loss)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.accuracy_tracker.update_state(y, y_pred["prediction"])
        return self.get_metrics_result()

    def get_config(self):
        return {**super().get_config(), "routing_iterations": self.routing_iterations,
                "conv_dtype": self.conv_dtype, "image_shape": self.image_shape}


def build_capsnet(routing_iterations: int = ROUTING_ITERATIONS, conv_dtype: str | None = None) -> CapsNet:
    """A CapsNet with its weights created (randomly initialised)."""
    model = CapsNet(routing_iterations=routing_iterations, conv_dtype=conv_dtype, name="capsnet")
    model.build((None, *IMAGE_SHAPE))
    return model


def per_replica(loss):
    """tf.distribute sums the replicas' gradients, so Keras expects each replica's loss divided
    by their number (its trainer multiplies it back for the logged loss). Other backends: as is."""
    if keras.backend.backend() != "tensorflow":
        return loss
    import tensorflow as tf
    return loss / tf.distribute.get_strategy().num_replicas_in_sync
