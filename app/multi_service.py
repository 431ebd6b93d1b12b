"""The MultiMNIST CapsNet behind /api/multi/*: CapsNetService's loading, batching and cache on a
36x36 input, asking the forward pass for the two longest capsules and both reconstructions."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from app.service import CapsNetService

# The stages the section shows; the traced graph prunes Conv1, the primary capsules' own outputs
# and the decoder's pass for the single predicted digit.
PAIR_KEYS = ("routing_coupling", "routing_lengths", "digit_caps", "lengths", "pair", "reconstructions")


class MultiMNISTService(CapsNetService):
    model_id = "multimnist"
    analysis_keys = PAIR_KEYS
    decode_batch_sizes = (1, 2, 4, 8)  # one slider move at a time; no Figure 4 sweep here

    def __init__(self, weights_path: str | Path | None = None, default_iterations: int = 3,
                 max_batch: int = 8):
        super().__init__(weights_path, default_iterations, max_batch=max_batch)

    def warm_up(self) -> None:
        canvas = np.zeros(self.image_shape[:2], np.float32)
        self.analyze(canvas, use_cache=False)
        self._analysis_batcher("analysis", self.analysis_keys, self.default_iterations).warm_up(
            canvas[None, ..., None])
        self._decode.warm_up(np.zeros((1, 10, self.capsule_dim), np.float32), np.zeros(1, np.int32))
        self.ready = True
