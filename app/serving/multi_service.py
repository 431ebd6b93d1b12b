"""The MultiMNIST CapsNet behind /api/multi/*: CapsNetService's loading, batching and cache on a
36x36 input, asking the forward pass for the two longest capsules and both reconstructions."""
from __future__ import annotations

from app.serving.service import CapsNetService

# The stages the section shows; the traced graph prunes Conv1, the primary capsules' vectors
# and the decoder's pass for the single predicted digit. Their lengths weigh the routing shares.
PAIR_KEYS = ("primary_caps_lengths", "routing_coupling", "routing_lengths", "digit_caps", "lengths", "pair",
             "reconstructions")


class MultiMNISTService(CapsNetService):
    model_id = "multimnist"
    analysis_keys = PAIR_KEYS
    decode_batch_sizes = (1, 2, 4, 8)  # one slider move at a time; no Figure 4 sweep here

    def _warm_up_more(self) -> None:
        """Nothing: no classification or Figure 4 sweep is served for pairs."""
