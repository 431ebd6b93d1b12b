"""The control: an ordinary convolutional network with max pooling, the article's foil.

conv 5x5 (64) -> max-pool -> conv 5x5 (128) -> max-pool -> conv 3x3 (256) -> max-pool
-> dense 328 -> dense 192 -> softmax over 10 digits. The two dense layers are the paper's
baseline's (328, 192); its convolutions are narrower than the paper's (256, 256, 128 at 5x5,
35.4M parameters), so that it trains on two CPU cores in minutes and still matches the
paper's 99.39% on MNIST. It sees the same data and the same +-2 pixel shifts as the CapsNet.
"""
from __future__ import annotations

import keras
from keras import ops

from model.capsnet import per_replica
from model.spec import IMAGE_SHAPE, NUM_CLASSES


@keras.saving.register_keras_serializable(package="capsnet")
class BaselineCNN(keras.Model):
    def __init__(self, filters: tuple[int, ...] = (64, 128, 256), kernel_sizes: tuple[int, ...] = (5, 5, 3),
                 dense_units: tuple[int, ...] = (328, 192), dropout: float = 0.5,
                 conv_dtype: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_sizes = tuple(filters), tuple(kernel_sizes)
        self.dense_units, self.dropout, self.conv_dtype = tuple(dense_units), dropout, conv_dtype
        self.convs = [keras.layers.Conv2D(f, k, padding="same", activation="relu", dtype=conv_dtype,
                                          kernel_initializer="he_normal", name=f"conv{n + 1}")
                      for n, (f, k) in enumerate(zip(self.filters, self.kernel_sizes))]
        self.pools = [keras.layers.MaxPooling2D(2, padding="same", dtype=conv_dtype, name=f"pool{n + 1}")
                      for n in range(len(self.filters))]
        self.flatten = keras.layers.Flatten(name="flatten")
        self.dense = [keras.layers.Dense(units, activation="relu", name=f"fc{n + 1}")
                      for n, units in enumerate(self.dense_units)]
        self.drop = keras.layers.Dropout(dropout, name="dropout")
        self.classifier = keras.layers.Dense(NUM_CLASSES, name="logits")
        self.accuracy_tracker = keras.metrics.Accuracy(name="accuracy")

    def build(self, input_shape=(None, *IMAGE_SHAPE)):
        shape = input_shape
        for conv, pool in zip(self.convs, self.pools):
            conv.build(shape)
            shape = pool.compute_output_shape(conv.compute_output_shape(shape))
        width = shape[1] * shape[2] * shape[3]  # (batch, 4, 4, 256) -> 4096 for 28x28
        for layer in self.dense:
            layer.build((None, width))
            width = layer.units
        self.classifier.build((None, width))
        self.built = True

    def call(self, images, training=None):
        """images (batch, 28, 28, 1) in 0..1 -> logits, probabilities (softmax) and prediction."""
        x = images
        for conv, pool in zip(self.convs, self.pools):
            x = pool(conv(x))
        x = ops.cast(self.flatten(x), "float32")
        for layer in self.dense:
            x = self.drop(layer(x), training=training)
        logits = self.classifier(x)
        return {"logits": logits, "probabilities": ops.softmax(logits, axis=-1),
                "prediction": ops.argmax(logits, axis=-1)}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = keras.losses.sparse_categorical_crossentropy(y, y_pred["logits"], from_logits=True)
        return per_replica(ops.mean(loss))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.accuracy_tracker.update_state(y, y_pred["prediction"])
        return self.get_metrics_result()

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_sizes": self.kernel_sizes,
                "dense_units": self.dense_units, "dropout": self.dropout, "conv_dtype": self.conv_dtype}


def build_cnn(conv_dtype: str | None = None, **_) -> BaselineCNN:
    """(Takes and ignores routing_iterations, as every builder of model/registry.py is called alike.)"""
    """A baseline CNN with its weights created (randomly initialised)."""
    model = BaselineCNN(conv_dtype=conv_dtype, name="cnn")
    model.build((None, *IMAGE_SHAPE))
    return model
