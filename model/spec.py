"""The numbers the whole project shares, defined here once (the paper's, where it gives them).

The networks, training, the studies and the server read them from here; the page reads them
from GET /api/model, which serves them (app/http/api.py), so no range or shape is typed twice.
"""
from __future__ import annotations

import numpy as np

# MNIST: 28x28 grey digits, light ink on black, ten classes.
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10

# Routing by agreement (Procedure 1): the paper's 3 iterations by default; 1 to 10 may be asked for.
ROUTING_ITERATIONS = 3
ROUTING_ITERATIONS_RANGE = (1, 10)

# Figure 4: each of a digit capsule's 16 dimensions moved by -0.25 to +0.25 in steps of 0.05; the
# page's sliders reach as far either side of the capsule's value.
PERTURBATION = 0.25
PERTURBATION_STEP = 0.05
SWEEP_PERTURBATIONS = np.round(np.arange(-PERTURBATION, PERTURBATION + PERTURBATION_STEP / 2, PERTURBATION_STEP), 2)

# MultiMNIST (section 6): two digits, each shifted by up to 4 pixels each way, in a 36x36 canvas.
PAIR_SHIFT = 4
PAIR_SHAPE = (IMAGE_SHAPE[0] + 2 * PAIR_SHIFT, IMAGE_SHAPE[1] + 2 * PAIR_SHIFT, 1)


def check_routing_iterations(iterations: int) -> int:
    low, high = ROUTING_ITERATIONS_RANGE
    if not low <= iterations <= high:
        raise ValueError(f"routing iterations must be between {low} and {high}, got {iterations}.")
    return iterations
