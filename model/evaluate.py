"""Test accuracy of a checkpoint: `python -m model.evaluate [--data PATH] [--checkpoint PATH]`."""
from __future__ import annotations

import argparse
from collections.abc import Callable

import keras
import numpy as np

from model.capsnet import CapsNet
from model.checkpoint import DEFAULT_CHECKPOINT, load_capsnet
from model.data import evaluation_batches, load_mnist


def compiled_prediction(model: CapsNet) -> Callable[[np.ndarray], np.ndarray]:
    """images -> predicted digits, compiled by the Keras backend in use; the compiler drops
    the outputs nobody reads (decoder, routing history), so only the lengths are computed."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        predict = tf.function(lambda x: model(x)["prediction"], reduce_retracing=True)
        return lambda x: predict(x).numpy()
    if backend == "jax":
        import jax
        state = ([v.value for v in model.trainable_variables],
                 [v.value for v in model.non_trainable_variables])
        predict = jax.jit(lambda state, x: model.stateless_call(*state, x)[0]["prediction"])
        return lambda x: np.asarray(predict(state, x))
    return lambda x: keras.ops.convert_to_numpy(model(x)["prediction"])


def predict_digits(model: CapsNet, images: np.ndarray, labels: np.ndarray,
                   batch_size: int = 100) -> np.ndarray:
    """The predicted digit of every image."""
    predict = compiled_prediction(model)
    batches = evaluation_batches(images, labels, batch_size)
    return np.concatenate([predict(batches[i][0]) for i in range(len(batches))])


def accuracy_report(model: CapsNet, images: np.ndarray, labels: np.ndarray) -> dict:
    predicted = predict_digits(model, images, labels)
    correct = predicted == labels
    return {
        "accuracy": float(correct.mean()),
        "images": int(len(labels)),
        "per_class_accuracy": {str(d): float(correct[labels == d].mean())
                               for d in range(10) if np.any(labels == d)},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--routing-iterations", type=int, default=3)
    args = parser.parse_args(argv)
    model, metadata = load_capsnet(args.checkpoint, args.routing_iterations)
    _, (x_test, y_test) = load_mnist(args.data)
    report = accuracy_report(model, x_test, y_test)
    print(f"checkpoint: {args.checkpoint} (epochs: {metadata.get('epochs', '?')})")
    for digit, accuracy in report["per_class_accuracy"].items():
        print(f"  digit {digit}: {accuracy:.4f}")
    print(f"test accuracy: {report['accuracy']:.4f} on {report['images']} images")


if __name__ == "__main__":
    main()
