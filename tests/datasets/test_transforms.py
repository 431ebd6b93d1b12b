"""Input transforms against hand-computed images: direction, centre, order, ranges."""
from __future__ import annotations

import numpy as np
import pytest

from datasets.transforms import (
    TRANSFORMS,
    apply_transform,
    centre_of_mass,
    change_thickness,
    check_transform,
    transform_each,
)


def bar(rows=slice(8, 20), cols=slice(13, 15)) -> np.ndarray:
    """A vertical bar 12 pixels tall, 2 wide: its centre of mass is (13.5, 13.5)."""
    image = np.zeros((28, 28))
    image[rows, cols] = 1.0
    return image


def ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the pixels above one half."""
    rows, cols = np.nonzero(image > 0.5)
    return rows.min(), rows.max(), cols.min(), cols.max()


def test_identity_leaves_the_image_alone():
    image = np.random.default_rng(0).random((28, 28))
    np.testing.assert_allclose(apply_transform(image, {}), image, atol=1e-6)
    np.testing.assert_allclose(apply_transform(image, {"rotation": 0, "scale_x": 1}), image, atol=1e-6)


def test_rotation_by_90_degrees_turns_a_vertical_bar_horizontal_about_its_centre():
    turned = apply_transform(bar(), {"rotation": 90})
    assert ink_box(turned) == (13, 14, 8, 19)  # the same 12 x 2 box, lying down, same centre
    np.testing.assert_allclose(centre_of_mass(turned[None])[0], [13.5, 13.5], atol=1e-6)


def two_dots() -> np.ndarray:
    """A dot of 1.0 at (x, y) = (20, 14) and one of 0.5 at (14, 14): told apart by their values
    (two equal dots look the same turned either way). Centre of mass (20 + 0.5 * 14) / 1.5 = 18."""
    image = np.zeros((28, 28))
    image[14, 20], image[14, 14] = 1.0, 0.5
    return image


def test_centre_of_mass_by_hand():
    np.testing.assert_allclose(centre_of_mass(two_dots()[None]), [[18.0, 14.0]])
    np.testing.assert_allclose(centre_of_mass(bar()[None]), [[13.5, 13.5]])  # columns 13, 14; rows 8..19
    image = np.zeros((28, 28))
    image[2, 5], image[10, 25] = 1.0, 3.0  # x = (5 + 3 * 25) / 4 = 20, y = (2 + 3 * 10) / 4 = 8
    np.testing.assert_allclose(centre_of_mass(np.stack([image, np.zeros((28, 28))])), [[20.0, 8.0], [13.5, 13.5]])


@pytest.mark.parametrize("rotation, bright, dim", [
    (90, (12, 18), (18, 18)),    # counter-clockwise: the bright dot, 2 px right of (18, 14), goes 2 px up
    (-90, (16, 18), (10, 18)),   # clockwise: it goes 2 px down; the dim one, 4 px left, 4 px up
    (180, (14, 16), (14, 22)),   # half a turn: the two swap sides about x = 18
])
def test_positive_rotation_is_counter_clockwise_on_screen(rotation, bright, dim):
    turned = apply_transform(two_dots(), {"rotation": rotation})  # (row, column) below
    assert turned[bright] == pytest.approx(1.0) and turned[dim] == pytest.approx(0.5)
    assert turned.sum() == pytest.approx(1.5)


def test_translation_moves_by_whole_pixels_exactly():
    moved = apply_transform(bar(), {"dx": 3, "dy": -2})
    np.testing.assert_allclose(moved, np.roll(np.roll(bar(), 3, axis=1), -2, axis=0), atol=1e-6)


def test_half_pixel_shift_is_bilinear():
    image = np.zeros((28, 28))
    image[10, 10] = 1.0
    moved = apply_transform(image, {"dx": 0.5})
    assert moved[10, 10] == pytest.approx(0.5) and moved[10, 11] == pytest.approx(0.5)


def test_scale_stretches_about_the_centre_of_mass():
    tall = apply_transform(bar(), {"scale_y": 2})
    top, bottom, left, right = ink_box(tall)
    assert (left, right) == (13, 14)
    # 12 rows about 13.5 become 24 rows: 13.5 -+ 12 -> about 2..25
    assert top in (2, 3) and bottom in (24, 25)


def test_positive_shear_moves_the_top_to_the_right():
    slanted = apply_transform(bar(), {"shear": 0.5})
    rows = np.nonzero(slanted > 0.5)[0]
    top_cols = np.nonzero(slanted[rows.min()] > 0.5)[0]
    bottom_cols = np.nonzero(slanted[rows.max()] > 0.5)[0]
    assert top_cols.mean() - bottom_cols.mean() == pytest.approx(0.5 * (rows.max() - rows.min()), abs=1.5)


def test_thickness_dilates_and_erodes_by_one_pixel_a_step():
    image = bar()
    thicker = change_thickness(image[None], 1)[0]
    # the 4-neighbour cross: one pixel added on each side, and one above and below
    assert ink_box(thicker) == (7, 20, 12, 15) and thicker.sum() == 12 * 4 + 2 * 2
    assert change_thickness(image[None], -1)[0].sum() == 0  # a 2-px stroke vanishes
    half = change_thickness(image[None], 0.5)[0]
    np.testing.assert_allclose(half, 0.5 * image + 0.5 * thicker)  # continuous in between


def test_thickness_comes_before_the_geometry():
    both = apply_transform(bar(), {"thickness": 1, "dx": 2})
    np.testing.assert_allclose(both, np.roll(change_thickness(bar()[None], 1)[0], 2, axis=1), atol=1e-6)


def test_per_image_parameters_match_one_at_a_time():
    rng = np.random.default_rng(1)
    images = rng.random((3, 28, 28)) * (rng.random((3, 28, 28)) > 0.8)
    rotations = np.array([-20.0, 0.0, 35.0])
    each = transform_each(images, {"rotation": rotations})
    for image, rotation, result in zip(images, rotations, each):
        np.testing.assert_allclose(result, apply_transform(image, {"rotation": rotation}), atol=1e-6)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_out_of_range_values_are_refused_naming_the_field_and_range(name):
    spec = TRANSFORMS[name]
    with pytest.raises(ValueError, match=rf"{name} must be in {spec.minimum}\.\.{spec.maximum}"):
        check_transform({name: spec.maximum + 1})
    with pytest.raises(ValueError, match="unknown transform"):
        check_transform({"zoom": 1.0})
