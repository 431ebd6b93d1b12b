"""MultiMNIST (paper, section 6): the CapsNet that reads two overlapping digits, its loss and what
counts as a pair read right. The pairs are made in datasets/pairs.py; their batches and the
test-set accuracy are training's (training/tasks.py).

The network is model/'s CapsNet on 36x36 inputs (3,200 primary capsules). What changes is the
loss: both digits are present in the margin loss, and the decoder redraws each digit from its own
capsule (the others masked) against that digit's own image. A pair counts as right when the two
longest digit capsules are exactly its two digits.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from model.capsnet import CapsNet, per_replica
from model.losses import margin_loss, reconstruction_loss
from model.spec import NUM_CLASSES, PAIR_SHAPE, ROUTING_ITERATIONS


def same_pair(predicted, labels):
    """(batch, 2), (batch, 2) -> (batch,) True where the two digits are the same two, in any order."""
    return ops.all(ops.equal(ops.sort(ops.cast(predicted, "int32"), axis=-1),
                             ops.sort(ops.cast(labels, "int32"), axis=-1)), axis=-1)


def longest(scores: np.ndarray, count: int) -> np.ndarray:
    """The network's answer: the `count` longest capsules (highest scores) along the last axis,
    in increasing order, so that a pair compares equal in either order (1 for one digit)."""
    return np.sort(np.argsort(-scores, axis=-1)[..., :count], axis=-1)


@keras.saving.register_keras_serializable(package="capsnet")
class MultiCapsNet(CapsNet):
    """The CapsNet on 36x36: Conv1 28x28x256 -> PrimaryCaps 32 x 10x10 -> DigitCaps 10x16 -> a
    decoder to 36x36. Only the outputs, the loss and the accuracy differ from the 28x28 network."""

    def __init__(self, routing_iterations: int = ROUTING_ITERATIONS, conv_dtype: str | None = None,
                 image_shape: tuple[int, int, int] = PAIR_SHAPE, **kwargs):
        super().__init__(routing_iterations, conv_dtype, image_shape, **kwargs)

    def build(self, input_shape=None):
        super().build(input_shape)
        # DigitCaps' N(0, 0.05) W is sized for 1,152 primary capsules; s_j sums 3,200 here, which
        # makes every capsule long from the start (mean length 0.57, against 0.30 on 28x28) and
        # pair accuracy stays at chance for hundreds of steps. W x sqrt(1152 / 3200): N(0, 0.03).
        transform = self.digit_caps.transform
        transform.assign(transform * (1152 / self.digit_caps.input_capsules) ** 0.5)

    def call(self, images, labels=None, routing_iterations: int | None = None, training=None,
             detach_routing: bool = True):
        """CapsNet's outputs, plus "pair" (batch, 2): the two longest capsules, longest first; and
        "reconstructions" (batch, 2, 36, 36, 1): each of the two digits (`labels` (batch, 2) when
        given, else the pair) redrawn from its own capsule. `detach_routing` as CapsNet's (saliency)."""
        outputs = super().call(images, routing_iterations=routing_iterations, training=training,
                               detach_routing=detach_routing)
        pair = ops.top_k(outputs["lengths"], 2)[1]
        digits = pair if labels is None else labels
        reconstructions = ops.stack([self.decode(outputs["digit_caps"], digits[:, k]) for k in range(2)],
                                    axis=1)
        return {**outputs, "pair": pair, "reconstructions": reconstructions}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Margin loss with both digits present, plus each digit's reconstruction loss against its own
        image, summed. The decoder is masked by the true digits in evaluation too: which predicted
        capsule is which image has no answer when the pair is wrong."""
        labels = ops.cast(y["labels"], "int32")
        present = ops.max(ops.one_hot(labels, NUM_CLASSES), axis=1)  # multi-hot (batch, 10)
        loss = margin_loss(present, y_pred["lengths"])
        for k in range(2):
            loss = loss + reconstruction_loss(y["images"][:, k], self.decode(y_pred["digit_caps"], labels[:, k]))
        return per_replica(loss)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # keras' Accuracy counts equal entries: a pair right is a 1 against a 1.
        right = ops.cast(same_pair(y_pred["pair"], y["labels"]), "int32")
        self.accuracy_tracker.update_state(ops.ones_like(right), right)
        return self.get_metrics_result()


def build_multimnist(routing_iterations: int = ROUTING_ITERATIONS, conv_dtype: str | None = None) -> MultiCapsNet:
    """A MultiMNIST CapsNet with its weights created (randomly initialised)."""
    model = MultiCapsNet(routing_iterations=routing_iterations, conv_dtype=conv_dtype, name="multimnist")
    model.build((None, *PAIR_SHAPE))
    return model
