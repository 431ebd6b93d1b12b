"""The shipped checkpoints, measured here on 2,000 real MNIST test digits (not read from the
metadata the training wrote), and verified against their recorded sha256."""
from __future__ import annotations

import numpy as np
import pytest

from datasets.subset import SUBSET, first_per_class
from model.checkpoint import load_model, sha256_of
from model.registry import MODELS, card
from training.tasks import task


@pytest.fixture(scope="module")
def subset():
    with np.load(SUBSET) as data:
        return data["x_test"], data["y_test"], data["test_index"]


def test_the_subset_is_the_first_200_of_each_digit(subset):
    images, labels, index = subset
    assert images.shape == (2000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [200] * 10
    assert np.all(np.diff(index) > 0) and SUBSET.stat().st_size < 1_000_000
    # the rule itself, on a made-up label list
    np.testing.assert_array_equal(first_per_class(np.array([3, 1, 3, 3, 1, 0]), 2), [0, 1, 2, 4, 5])


@pytest.mark.parametrize("model_id", list(MODELS))
def test_each_shipped_checkpoint_measures_on_the_subset_as_its_card_records(subset, model_id):
    """Measured here with the model's own task (single digits, or 2,000 pairs made from the subset
    as the test pairs are made from the test set): the accuracy agrees with the 10,000-example
    figure in the metadata within sampling error (3.5 standard deviations)."""
    images, labels, _ = subset
    model, metadata = load_model(model_id)
    assert metadata["sha256"] == sha256_of(card(model_id).checkpoint)
    report = task(model_id).accuracy_report(model, images, labels)
    unit = card(model_id).test_unit
    expected = metadata["test_accuracy"]
    assert report[unit] == 2000 and metadata[f"test_{unit}"] == 10000
    assert abs(report["accuracy"] - expected) <= 3.5 * (expected * (1 - expected) / 2000) ** 0.5, report
    if unit == "images":  # the MNIST networks: the paper's level, whatever the metadata says
        assert report["accuracy"] >= 0.993, report
