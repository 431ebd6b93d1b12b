"""The one compiled forward pass, used by evaluation and by the server.

`compiled_forward(model, keys)` returns images -> {key: numpy array} for the chosen outputs of
`model(images, **options)`, compiled by the Keras backend in use. The compiler prunes every
output nobody asked for: evaluation asks for the prediction only, so the decoder and the
routing history are never computed there; the server asks for every stage it shows.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

Forward = Callable[[np.ndarray], dict[str, np.ndarray]]


def compiled_forward(model: keras.Model, keys: Sequence[str], image_shape: Sequence[int] | None = None,
                     **options) -> Forward:
    """`image_shape` (h, w, c) fixes the traced signature (batch of any size) on TensorFlow."""
    keys = tuple(keys)

    def outputs(images):
        produced = model(images, **options)
        return {key: produced[key] for key in keys}

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        signature = None if image_shape is None else [tf.TensorSpec([None, *image_shape], tf.float32)]
        traced = tf.function(outputs, input_signature=signature, reduce_retracing=True)
        return lambda images: {k: v.numpy() for k, v in traced(np.asarray(images, np.float32)).items()}
    if backend == "jax":
        import jax
        state = ([v.value for v in model.trainable_variables],
                 [v.value for v in model.non_trainable_variables])

        def stateless(state, images):
            produced = model.stateless_call(*state, images, **options)[0]
            return {key: produced[key] for key in keys}

        jitted = jax.jit(stateless)
        return lambda images: {k: np.asarray(v) for k, v in jitted(state, np.asarray(images, np.float32)).items()}
    return lambda images: {k: keras.ops.convert_to_numpy(v) for k, v in outputs(images).items()}


def in_batches(forward: Forward, images: np.ndarray, batch_size: int = 200) -> dict[str, np.ndarray]:
    """forward over many images, `batch_size` at a time, concatenated."""
    parts = [forward(images[start:start + batch_size]) for start in range(0, len(images), batch_size)]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
