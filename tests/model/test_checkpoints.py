"""The shipped checkpoints, measured here on 2,000 real MNIST test digits (not read from the
metadata the training wrote), and verified against their recorded sha256; damaged copies of them
refused by the sha256 check or, where the card was made to match, by the loader."""
from __future__ import annotations

import numpy as np
import pytest

from datasets.subset import SUBSET, first_per_class
from model.checkpoint import CheckpointError, load_model, sha256_of, verify_checkpoint
from model.registry import MODELS, card
from support.checkpoints import DAMAGES, damaged_copy, weights_overwritten
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


# ---------------------------------------------------------------- damaged copies

@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("model_id", list(MODELS))
def test_a_damaged_checkpoint_whose_card_matches_is_refused_by_the_loader(tmp_path, model_id, damage):
    """The card's sha256 is the damaged file's, so the damage passes verification and reaches
    the HDF5 loader, which must refuse it with a CheckpointError naming the file and saying how
    to restore it (not h5py's or Keras' own exception, nor a model half loaded)."""
    weights = damaged_copy(model_id, tmp_path, DAMAGES[damage])
    assert verify_checkpoint(weights, model_id)["sha256"] == sha256_of(weights)  # the card matches
    with pytest.raises(CheckpointError, match="could not be loaded") as error:
        load_model(model_id, weights)
    message = str(error.value)
    assert str(weights) in message
    assert f"git checkout -- checkpoints/{model_id}.weights.h5`" in message and card(model_id).train_command in message


def test_a_checkpoint_changed_after_its_card_was_written_is_refused_by_its_sha256(tmp_path):
    """Numbers overwritten in the middle of the weights: HDF5 reads such a file without complaint
    (shown with verify=False), so only the comparison with the card's sha256 can refuse it."""
    weights = damaged_copy("cnn", tmp_path, weights_overwritten, rehash=False)
    shipped = sha256_of(card("cnn").checkpoint)
    with pytest.raises(CheckpointError, match="does not match its metadata") as error:
        load_model("cnn", weights)
    message = str(error.value)
    assert str(weights) in message and shipped in message and sha256_of(weights) in message
    assert "git checkout -- checkpoints/" in message and card("cnn").train_command in message
    unverified, _ = load_model("cnn", weights, verify=False)  # the damage itself goes unnoticed
    shipped_model, _ = load_model("cnn")
    changed = [not np.array_equal(a, b) for a, b in zip(unverified.get_weights(), shipped_model.get_weights())]
    assert sum(changed) == 1
