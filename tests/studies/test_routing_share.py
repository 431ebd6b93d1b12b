"""The routing shares (model/routing_share.py) against numbers worked out by hand, and the report
command on a few real test digits."""
from __future__ import annotations

import json

import numpy as np
import pytest

from model.checkpoint import load_model
from model.routing_share import coupling_shares, position_shares
from studies.routing_share import main, true_digits
from training.tasks import task


def test_coupling_shares_weigh_each_capsule_by_its_length():
    # two capsules, three digits: capsule 0 (length 3) votes 0.5/0.25/0.25, capsule 1 (length 1) 0/0/1
    coupling = np.array([[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]])
    shares = coupling_shares(coupling, np.array([3.0, 1.0]))
    # digit 0: (3 * 0.5 + 1 * 0) / 4 = 0.375; digit 1: 0.75 / 4 = 0.1875; digit 2: (0.75 + 1) / 4 = 0.4375
    np.testing.assert_allclose(shares, [0.375, 0.1875, 0.4375])
    # capsules of length zero say nothing; if none says anything, every capsule counts alike
    np.testing.assert_allclose(coupling_shares(coupling, np.array([0.0, 2.0])), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(coupling_shares(coupling, np.zeros(2)), [0.25, 0.125, 0.625])


def test_coupling_shares_over_a_batch_of_iterations():
    coupling = np.array([[[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.2, 0.8]]])  # (iterations 2, capsules 2, digits 2)
    np.testing.assert_allclose(coupling_shares(coupling, np.array([1.0, 3.0])),
                               [[0.5, 0.5], [(1.0 + 0.6) / 4, (0.0 + 2.4) / 4]])


def test_position_shares_follow_the_grid_order_row_col_type():
    # grid 1 row x 2 cols x 2 types = 4 capsules, in the model's order (row, col, type)
    coupling = np.array([[1.0, 0.0], [0.0, 1.0],    # position (0, 0): types 0 and 1
                         [0.5, 0.5], [0.1, 0.9]])   # position (0, 1)
    weights = np.array([1.0, 1.0, 2.0, 0.0])
    shares = position_shares(coupling, weights, (1, 2, 2))
    assert shares.shape == (1, 2, 2)
    np.testing.assert_allclose(shares[0, 0], [0.5, 0.5])
    np.testing.assert_allclose(shares[0, 1], [0.5, 0.5])  # the zero-length type 1 does not count


def test_true_digits_of_both_tasks():
    np.testing.assert_array_equal(true_digits(np.array([3, 1])), [[3], [1]])
    np.testing.assert_array_equal(true_digits({"labels": np.array([[3, 1], [0, 9]])}), [[3, 1], [0, 9]])


def test_report_command_on_real_digits(tiny_mnist, tmp_path):
    """Both CapsNets on 20 test digits (pairs): the table carries their sha256; iteration 1 is the
    even split exactly; later iterations move the votes; the accuracy had routing stopped at the
    last iteration is the model's own accuracy, measured independently by its task."""
    output = tmp_path / "routing_share.json"
    main(["--data", str(tiny_mnist), "--count", "20", "--output", str(output)])
    table = json.loads(output.read_text())
    assert table["command"] == "python -m studies.routing_share" and table["routing_iterations"] == 3
    with np.load(tiny_mnist) as tiny:
        images, labels = tiny["x_test"], tiny["y_test"]
    for model_id, uniform in (("capsnet", 0.1), ("multimnist", 0.2)):
        report = table["by_model"][model_id]
        model, metadata = load_model(model_id)
        assert table["models"][model_id]["sha256"] == metadata["sha256"]
        assert report["examples"] == 20 and report["uniform"] == pytest.approx(uniform)
        assert report["share_to_true"][0] == pytest.approx(uniform, abs=1e-6) and report["mean_shift"][0] < 1e-7
        assert report["mean_shift"][2] > report["mean_shift"][1] > 0
        assert report["accuracy"][-1] == task(model_id).accuracy_report(model, images, labels)["accuracy"]


def test_report_command_rejects_an_empty_count(tiny_mnist):
    with pytest.raises(SystemExit):
        main(["--data", str(tiny_mnist), "--count", "0"])
