"""The loaded model behind the API: traced once per process, results cached by input."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import tensorflow as tf

from model.capsnet import IMAGE_SHAPE, NUM_CLASSES
from model.checkpoint import load_capsnet

# What the API shows; the forward pass computes more (e.g. prediction vectors), which the
# traced graph prunes away.
ANALYSIS_KEYS = ("conv1", "primary_caps", "primary_caps_lengths", "routing_coupling",
                 "routing_lengths", "digit_caps", "lengths", "prediction", "reconstruction")
SWEEP_STEPS = np.round(np.arange(-0.25, 0.2501, 0.05), 2)  # the paper's Figure 4: 11 values
DIGIT_CAPS_DIM = 16


class CapsNetService:
    """One per process: the model, its traced functions, and an LRU cache of analyses."""

    def __init__(self, weights_path: str | Path, default_iterations: int = 3, cache_size: int = 64):
        self.model, self.metadata = load_capsnet(weights_path, default_iterations)
        self.weights_path = Path(weights_path)
        self.default_iterations = default_iterations
        self.ready = False
        self._analyze_functions: dict[int, tf.types.experimental.ConcreteFunction] = {}
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], dict] = OrderedDict()
        self._cache_size = cache_size
        self._decode = tf.function(
            self.model.decode,
            input_signature=[tf.TensorSpec([None, NUM_CLASSES, DIGIT_CAPS_DIM], tf.float32),
                             tf.TensorSpec([None], tf.int32)],
        )

    def warm_up(self) -> None:
        """Trace the forward pass and the decoder now, so the first user does not wait."""
        self.analyze(np.zeros(IMAGE_SHAPE[:2], np.float32), use_cache=False)
        self.reconstruct(0, np.zeros(DIGIT_CAPS_DIM, np.float32))
        self.sweep(0, np.zeros(DIGIT_CAPS_DIM, np.float32))
        self.ready = True

    def _analyze_function(self, iterations: int):
        with self._lock:
            if iterations not in self._analyze_functions:
                def forward(image):
                    outputs = self.model(image, routing_iterations=iterations)
                    return {key: outputs[key] for key in ANALYSIS_KEYS}
                self._analyze_functions[iterations] = tf.function(
                    forward, input_signature=[tf.TensorSpec([1, *IMAGE_SHAPE], tf.float32)]
                ).get_concrete_function()
            return self._analyze_functions[iterations]

    def analyze(self, pixels: np.ndarray, iterations: int | None = None,
                use_cache: bool = True) -> dict[str, np.ndarray]:
        """Every stage for one 28x28 input in 0..1, for one example (batch axis removed)."""
        iterations = iterations or self.default_iterations
        pixels = np.ascontiguousarray(pixels, dtype=np.float32)
        key = (hashlib.sha256(pixels.tobytes()).hexdigest(), iterations)
        if use_cache:
            with self._lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
        outputs = self._analyze_function(iterations)(tf.constant(pixels.reshape(1, *IMAGE_SHAPE)))
        analysis = {"input": pixels, **{k: v.numpy()[0] for k, v in outputs.items()}}
        if use_cache:
            with self._lock:
                self._cache[key] = analysis
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return analysis

    def decode(self, digits: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Reconstructions (n, 28, 28) from one 16-D vector per chosen digit capsule."""
        capsules = np.zeros((len(digits), NUM_CLASSES, DIGIT_CAPS_DIM), np.float32)
        capsules[np.arange(len(digits)), digits] = vectors
        images = self._decode(tf.constant(capsules), tf.constant(digits, tf.int32))
        return images.numpy()[..., 0]

    def reconstruct(self, digit: int, vector: np.ndarray) -> np.ndarray:
        return self.decode(np.array([digit]), np.asarray(vector, np.float32)[None])[0]

    def sweep(self, digit: int, vector: np.ndarray) -> np.ndarray:
        """(16, 11, 28, 28): dimension d of the capsule moved by each of SWEEP_STEPS."""
        vector = np.asarray(vector, np.float32)
        vectors = np.repeat(vector[None, None], DIGIT_CAPS_DIM, 0).repeat(len(SWEEP_STEPS), 1)
        for dimension in range(DIGIT_CAPS_DIM):
            vectors[dimension, :, dimension] += SWEEP_STEPS
        images = self.decode(np.full(vectors.shape[0] * vectors.shape[1], digit),
                             vectors.reshape(-1, DIGIT_CAPS_DIM))
        return images.reshape(DIGIT_CAPS_DIM, len(SWEEP_STEPS), *IMAGE_SHAPE[:2])

    def conv1_kernels(self) -> np.ndarray:
        """(256, 9, 9): the trained Conv1 kernels, one per feature map."""
        kernel = self.model.conv1.kernel.numpy()  # (9, 9, 1, 256)
        return np.transpose(kernel[:, :, 0, :], (2, 0, 1))
