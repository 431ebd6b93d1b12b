"""The loaded models behind the API: verified, traced once per process, analyses cached by input."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import tensorflow as tf

from app.serving.batcher import Batcher
from app.serving.decoder_weights import decoder_weights
from model.checkpoint import load_model
from model.forward import compiled_forward
from model.receptive_field import capsnet_layers, receptive_field
from model.registry import card
from model.spec import IMAGE_SHAPE, NUM_CLASSES, ROUTING_ITERATIONS, SWEEP_PERTURBATIONS

# What the API shows; the forward pass computes more (e.g. prediction vectors), which the
# traced graph prunes away.
ANALYSIS_KEYS = ("conv1", "primary_caps_pre_squash", "primary_caps", "primary_caps_lengths",
                 "routing_coupling", "routing_lengths", "digit_caps", "lengths", "prediction",
                 "reconstruction")
CLASSIFY_KEYS = ("lengths", "digit_caps", "prediction")  # no decoder, no routing history
# The votes view and the math panel: every vote u_hat_{j|i} and the routing's own numbers.
DETAIL_KEYS = ("primary_caps_pre_squash", "primary_caps", "primary_caps_lengths", "prediction_vectors",
               "routing_logits", "routing_coupling", "routing_digit_caps", "lengths")
# The batch sizes concurrent requests are padded to (app/serving/batcher.py), each warmed at start-up:
# analyses (a gthread worker serves a few requests at once) and decoded capsules (a sweep is 176).
ANALYSIS_BATCH_SIZES = (1, 2, 4, 8)
DECODE_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def read_only(arrays: dict[str, np.ndarray]) -> MappingProxyType:
    """A cached analysis is handed to every later caller: neither its arrays nor the mapping
    can be changed in place (numpy and Python raise), so no caller can alter another's answer."""
    for array in arrays.values():
        if isinstance(array, np.ndarray):  # numpy scalars (the prediction) are immutable already
            array.flags.writeable = False
    return MappingProxyType(arrays)


class ModelService:
    """A verified checkpoint of the zoo, loaded once per process."""

    model_id = ""
    image_shape: tuple[int, ...] = IMAGE_SHAPE

    def __init__(self, weights_path: str | Path | None = None, **options):
        self.weights_path = Path(weights_path or card(self.model_id).checkpoint)
        self.model, self.metadata = load_model(self.model_id, self.weights_path, **options)
        self.ready = False
        self.forward_passes = 0  # counted, so that a test can tell a cache hit from a miss

    @property
    def sha256(self) -> str:
        return self.metadata["sha256"]  # verified against the file at load

    def summary(self) -> dict:
        unit = card(self.model_id).test_unit  # "images", or MultiMNIST's "pairs"
        return {"id": self.model_id, "name": card(self.model_id).name,
                "parameters": int(self.model.count_params()), "input_shape": list(self.image_shape[:2]),
                "test_accuracy": self.metadata["test_accuracy"], "test_unit": unit,
                "test_count": int(self.metadata.get(f"test_{unit}", 0)), "sha256": self.sha256}


class CNNService(ModelService):
    model_id = "cnn"

    def __init__(self, weights_path: str | Path | None = None):
        super().__init__(weights_path)
        self._classify = compiled_forward(self.model, ("probabilities", "prediction"), IMAGE_SHAPE)

    def warm_up(self) -> None:
        self.classify(np.zeros((1, *IMAGE_SHAPE[:2]), np.float32))
        self.ready = True

    def classify(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """(n, 28, 28) in 0..1 -> probabilities (n, 10), prediction (n,)."""
        self.forward_passes += 1
        return self._classify(np.asarray(images, np.float32)[..., None])


class CapsNetService(ModelService):
    """The CapsNet, its traced functions, and an LRU cache of analyses."""

    model_id = "capsnet"
    analysis_keys = ANALYSIS_KEYS
    decode_batch_sizes = DECODE_BATCH_SIZES

    def __init__(self, weights_path: str | Path | None = None, default_iterations: int = ROUTING_ITERATIONS,
                 cache_size: int = 64, max_batch: int = ANALYSIS_BATCH_SIZES[-1], max_waiting: int = 64):
        super().__init__(weights_path, routing_iterations=default_iterations)
        self.max_waiting = max_waiting  # calls queued for one batcher before it answers 429
        self.image_shape = tuple(self.model.image_shape)  # (28, 28, 1); MultiMNIST's (36, 36, 1)
        self.default_iterations = default_iterations
        # max_batch 1: every analysis alone, as before the batcher (for comparing)
        self.batch_sizes = tuple(size for size in ANALYSIS_BATCH_SIZES if size <= max_batch) or (1,)
        self._analyze_functions: dict[tuple[str, int], Any] = {}  # traced functions, batchers
        self._trace_lock = threading.Lock()  # tracing takes seconds: never under the cache lock
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], dict] = OrderedDict()
        self._cache_size = cache_size
        self._classify = compiled_forward(self.model, CLASSIFY_KEYS, self.image_shape)
        self.capsule_dim = self.model.digit_caps.capsule_dim
        self._decoder_weights: bytes | None = None
        decode = tf.function(
            self.model.decode,
            input_signature=[tf.TensorSpec([None, NUM_CLASSES, self.capsule_dim], tf.float32),
                             tf.TensorSpec([None], tf.int32)],
        )
        self._decode = Batcher(lambda capsules, digits: decode(capsules, digits).numpy(),
                               self.decode_batch_sizes, name="the decoder", max_waiting=max_waiting)

    def warm_up(self) -> None:
        """Trace the forward passes and the decoder now, so the first user does not wait."""
        self.analyze(np.zeros(self.image_shape[:2], np.float32), use_cache=False)
        self._analysis_batcher("analysis", self.analysis_keys, self.default_iterations).warm_up(
            np.zeros((1, *self.image_shape), np.float32))
        self._decode.warm_up(np.zeros((1, NUM_CLASSES, self.capsule_dim), np.float32), np.zeros(1, np.int32))
        self.reconstruct(0, np.zeros(self.capsule_dim, np.float32))
        self._warm_up_more()
        self.ready = True

    def _warm_up_more(self) -> None:
        """What the MNIST page asks for besides: batched classification (the claims), Figure 4's sweep."""
        self.classify(np.zeros((1, *self.image_shape[:2]), np.float32))
        self.sweep(0, np.zeros(self.capsule_dim, np.float32))

    def _traced(self, kind: str, iterations: int, make):
        """The traced function `kind` for `iterations`, traced on first use outside the cache lock."""
        key = (kind, iterations)
        function = self._analyze_functions.get(key)
        if function is None:
            with self._trace_lock:
                if key not in self._analyze_functions:
                    self._analyze_functions[key] = make()
                function = self._analyze_functions[key]
        return function

    def _cached_pass(self, kind: str, keys: tuple[str, ...], pixels: np.ndarray, iterations: int | None,
                     use_cache: bool = True) -> MappingProxyType:
        iterations = iterations or self.default_iterations
        pixels = np.ascontiguousarray(pixels, dtype=np.float32)
        key = (hashlib.sha256(pixels.tobytes()).hexdigest(), iterations, kind)
        if use_cache:
            with self._cache_lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
        # A cache hit has returned above: only misses wait for (and share) a batch.
        outputs = self._analysis_batcher(kind, keys, iterations)(pixels.reshape(1, *self.image_shape))
        result = read_only({"input": pixels.copy(), **{k: v[0] for k, v in outputs.items()}})
        if use_cache:
            with self._cache_lock:
                self._cache[key] = result
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return result

    def _analysis_batcher(self, kind: str, keys: tuple[str, ...], iterations: int) -> Batcher:
        """The traced pass `kind` at `iterations`, behind a batcher of its own."""
        def make() -> Batcher:
            forward = compiled_forward(self.model, keys, self.image_shape, routing_iterations=iterations)

            def counted(images: np.ndarray) -> dict[str, np.ndarray]:
                self.forward_passes += 1  # one per batch: the batcher's thread alone runs it
                return forward(images)
            return Batcher(counted, self.batch_sizes, name=f"the {kind} pass ({iterations} iterations)",
                           max_waiting=self.max_waiting)
        return self._traced(kind, iterations, make)

    def analyze(self, pixels: np.ndarray, iterations: int | None = None,
                use_cache: bool = True) -> dict[str, np.ndarray]:
        """Every stage for one input (image_shape[:2]) in 0..1, for one example (batch axis removed)."""
        return self._cached_pass("analysis", self.analysis_keys, pixels, iterations, use_cache)

    def details(self, pixels: np.ndarray, iterations: int | None = None) -> dict[str, np.ndarray]:
        """Every vote u_hat_{j|i} (1152, 10, 16) and the routing's logits, couplings and v_j."""
        return self._cached_pass("details", DETAIL_KEYS, pixels, iterations)

    def saliency(self, pixels: np.ndarray, digit: int, iterations: int | None = None) -> np.ndarray:
        """d|v_digit| / d pixel (28, 28), differentiated through every routing iteration (training
        stops the gradient in all but the last; here the couplings' dependence counts too)."""
        iterations = iterations or self.default_iterations

        def make():
            @tf.function(input_signature=[tf.TensorSpec([1, *self.image_shape], tf.float32),
                                          tf.TensorSpec([], tf.int32)])
            def gradient(image, chosen):
                with tf.GradientTape() as tape:
                    tape.watch(image)
                    outputs = self.model(image, routing_iterations=iterations, detach_routing=False)
                    length = outputs["lengths"][0, chosen]
                return tape.gradient(length, image)
            return gradient

        gradient = self._traced("saliency", iterations, make)
        image = tf.constant(np.asarray(pixels, np.float32).reshape(1, *self.image_shape))
        return gradient(image, tf.constant(digit, tf.int32)).numpy()[0, ..., 0]

    @cached_property
    def primary_grid(self) -> tuple[int, int, int]:
        """(rows, cols, capsule types): how the model orders its primary capsules."""
        layer = next(layer for layer in self.layers() if layer["name"] == "primary_caps")
        return (*layer["grid"], layer["capsule_types"])

    def receptive_field(self) -> dict:
        """Size and stride in input pixels of one primary capsule, and the capsule grid."""
        size, stride = receptive_field(capsnet_layers(self.model))
        return {"size": size, "stride": stride, "grid": list(self.primary_grid),
                "input_side": self.image_shape[0]}

    def receptive_fields(self) -> dict[str, dict[str, int]]:
        """What one unit sees, {size, stride} in the pixels below it (unit (r, c) sees the square
        of `size` from (r * stride, c * stride)): a ReLU map's pixel and a primary capsule on the
        input, and a primary capsule on the ReLU maps. The page outlines them (web/lib/fields.js)."""
        conv1, primary = capsnet_layers(self.model)
        field = lambda layers: dict(zip(("size", "stride"), receptive_field(layers)))
        return {"conv1": field([conv1]), "primary_caps": field([conv1, primary]),
                "primary_caps_on_conv1": field([primary])}

    def classify(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """(n, height, width) -> lengths (n, 10), digit_caps (n, 10, 16), prediction (n,): one batched pass."""
        self.forward_passes += 1
        return self._classify(np.asarray(images, np.float32)[..., None])

    def decode(self, digits: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Reconstructions (n, height, width) from one 16-D vector per chosen digit capsule."""
        capsules = np.zeros((len(digits), NUM_CLASSES, self.capsule_dim), np.float32)
        capsules[np.arange(len(digits)), digits] = vectors
        return self._decode(capsules, np.asarray(digits, np.int32))[..., 0]

    def reconstruct(self, digit: int, vector: np.ndarray) -> np.ndarray:
        return self.decode(np.array([digit]), np.asarray(vector, np.float32)[None])[0]

    def sweep(self, digit: int, vector: np.ndarray) -> np.ndarray:
        """(16, 11, height, width): dimension d of the capsule moved by each of SWEEP_PERTURBATIONS."""
        vector = np.asarray(vector, np.float32)
        dims = self.capsule_dim
        vectors = np.repeat(vector[None, None], dims, 0).repeat(len(SWEEP_PERTURBATIONS), 1)
        for dimension in range(dims):
            vectors[dimension, :, dimension] += SWEEP_PERTURBATIONS
        images = self.decode(np.full(vectors.shape[0] * vectors.shape[1], digit),
                             vectors.reshape(-1, dims))
        return images.reshape(dims, len(SWEEP_PERTURBATIONS), *self.image_shape[:2])

    def decoder_weights(self) -> bytes:
        """The decoder for the page (app/serving/decoder_weights.py's format), made once per process."""
        if self._decoder_weights is None:
            self._decoder_weights = decoder_weights(self.model.decoder, NUM_CLASSES, self.capsule_dim, self.sha256,
                                                   SWEEP_PERTURBATIONS)
        return self._decoder_weights

    def conv1_kernels(self) -> np.ndarray:
        """(256, 9, 9): the trained Conv1 kernels, one per feature map."""
        kernel = self.model.conv1.kernel.numpy()  # (9, 9, 1, 256)
        return np.transpose(kernel[:, :, 0, :], (2, 0, 1))

    def layers(self) -> list[dict]:
        """The architecture, read from the model object (one source of truth for the page)."""
        m = self.model
        conv1_shape = m.conv1.compute_output_shape((None, *self.image_shape))
        primary = m.primary_caps
        side = (conv1_shape[1] - primary.kernel_size) // primary.strides + 1
        return [
            {"name": "conv1", "filters": m.conv1.filters, "kernel_size": m.conv1.kernel_size[0],
             "strides": m.conv1.strides[0], "activation": "relu", "output_shape": list(conv1_shape[1:])},
            {"name": "primary_caps", "filters": primary.capsule_types * primary.capsule_dim,
             "kernel_size": primary.kernel_size, "strides": primary.strides,
             "capsule_types": primary.capsule_types, "capsule_dim": primary.capsule_dim,
             "grid": [side, side], "capsules": side * side * primary.capsule_types, "activation": "squash",
             "output_shape": [side * side * primary.capsule_types, primary.capsule_dim]},
            {"name": "digit_caps", "capsules": m.digit_caps.num_capsules,
             "capsule_dim": m.digit_caps.capsule_dim, "routing": "dynamic routing by agreement",
             "output_shape": [m.digit_caps.num_capsules, m.digit_caps.capsule_dim]},
            {"name": "decoder", "units": [layer.units for layer in (*m.decoder.hidden, m.decoder.output_layer)],
             "output_shape": list(m.decoder.image_shape[:2])},
        ]
