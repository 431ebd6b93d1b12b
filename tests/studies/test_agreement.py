"""The agreement measures, receptive fields and image properties against hand-computed numbers."""
from __future__ import annotations

import numpy as np
import pytest

from model.agreement import agreement, evidence, project
from model.receptive_field import receptive_field, spread_over_fields
from studies.dimensions import image_properties, label
from studies.mistakes import find_mistakes
from studies.votes import fit_projections


def test_receptive_field_of_the_primary_capsules():
    # Conv1 9x9 stride 1: 9 px; PrimaryCaps 9x9 stride 2 on top: 9 + (9 - 1) * 1 = 17 px, stride 2
    assert receptive_field([(9, 1)]) == (9, 1)
    assert receptive_field([(9, 1), (9, 2)]) == (17, 2)
    assert receptive_field([(3, 2), (3, 2)]) == (7, 4)  # 3 + 2 * 2


def test_spread_over_fields_sums_the_units_covering_each_pixel():
    out = spread_over_fields(np.array([[1.0, 10.0]]), size=3, stride=2, image_side=5)
    # unit (0,0) covers columns 0-2, unit (0,1) columns 2-4, rows 0-2: column 2 gets both
    np.testing.assert_array_equal(out[0], [1, 1, 11, 10, 10])
    assert out[3:].sum() == 0


def test_agreement_is_the_weighted_mean_cosine():
    u_hat = np.zeros((2, 2, 2))
    u_hat[0, 0] = [1, 0]   # agrees with v_0
    u_hat[1, 0] = [0, 3]   # orthogonal to v_0, three times as long
    u_hat[0, 1] = [-1, 0]  # opposite v_1
    u_hat[1, 1] = [-2, 0]
    coupling = np.array([[0.5, 0.5], [0.5, 0.5]])
    v = np.array([[2.0, 0.0], [1.0, 0.0]])
    # digit 0: weights 0.5*1 and 0.5*3, cosines 1 and 0 -> 0.5 / 2 = 0.25; digit 1: all opposite -> -1
    np.testing.assert_allclose(agreement(u_hat, coupling, v), [0.25, -1.0])


def test_evidence_is_coupling_times_the_component_along_v_per_position():
    u_hat = np.zeros((4, 1, 2))  # a grid of 2 positions x 2 capsule types
    u_hat[:, 0] = [[3, 4], [1, 0], [0, 2], [-1, 0]]
    coupling = np.array([[0.5], [1.0], [1.0], [0.25]])
    v = np.array([[0.6, 0.0]])  # direction (1, 0): components 3, 1, 0, -1
    np.testing.assert_allclose(evidence(u_hat, coupling, v, 0, (1, 2, 2)), [[0.5 * 3 + 1.0, 0 - 0.25]])


def test_projection_axes_follow_the_spread_of_the_votes():
    rng = np.random.default_rng(0)
    votes = np.zeros((50, 4, 1, 3))
    votes[..., 0, 0] = rng.normal(0, 5, (50, 4))  # most spread along dimension 0
    votes[..., 0, 1] = rng.normal(0, 1, (50, 4))
    votes[..., 0, 2] = 7.0  # constant: only the mean
    (fit,) = fit_projections(votes)
    assert abs(fit["components"][0][0]) == pytest.approx(1.0, abs=0.05)
    assert fit["mean"][2] == pytest.approx(7.0)
    np.testing.assert_allclose(project(np.array([fit["mean"]]), fit), [[0.0, 0.0]], atol=1e-12)


def test_image_properties_of_a_rectangle():
    image = np.zeros((1, 28, 28))
    image[0, 4:12, 10:14] = 1.0  # rows 4..11, columns 10..13
    props = {k: float(v[0]) for k, v in image_properties(image).items()}
    assert props["ink"] == 32 and props["centre_x"] == pytest.approx(11.5) and props["centre_y"] == pytest.approx(7.5)
    # the standard deviation of 0..3 is sqrt(1.25); of 0..7, sqrt(5.25)
    assert props["width"] == pytest.approx(4 * np.sqrt(1.25)) and props["height"] == pytest.approx(4 * np.sqrt(5.25))
    assert props["slant"] == pytest.approx(0.0)
    leaning = np.zeros((1, 28, 28))
    for row in range(10):
        leaning[0, 5 + row, 20 - row] = 1.0  # the top is further right: leans right
    assert float(image_properties(leaning)["slant"][0]) == pytest.approx(1.0)


def test_a_dimension_is_labelled_only_where_both_measures_agree():
    assert label({"ink": 2.0, "slant": 0.1}, {"ink": 0.7, "slant": 0.2})["text"] == "ink, r = 0.70"
    assert label({"ink": -2.0, "slant": 0.1}, {"ink": 0.7, "slant": 0.2})["label"] is None  # opposite signs
    assert label({"ink": 2.0, "slant": 0.1}, {"ink": 0.4, "slant": 0.2})["text"] == "no single property"


def test_mistakes_are_the_wrong_predictions_in_order():
    lengths = np.array([[0.9, 0.1], [0.2, 0.7], [0.6, 0.3]])
    found = find_mistakes(lengths, np.array([0, 0, 1]))
    assert [(m["index"], m["label"], m["prediction"]) for m in found] == [(1, 0, 1), (2, 1, 0)]
