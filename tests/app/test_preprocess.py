"""MNIST-style preprocessing of uploads and drawings (app/uploads/preprocess.py)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from app.errors import ApiError
from app.uploads.preprocess import image_bytes_to_mnist, stroke_width, to_mnist
from support.digits import gallery_digit
from support.images import (
    almost_empty,
    dark_on_light_upload,
    encode,
    photo_of_seven,
    png_claiming_size,
    seven,
    shaded_page,
)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / image.sum()), float((cols * image).sum() / image.sum())


def difference(result: np.ndarray, digit: np.ndarray) -> float:
    """Mean absolute difference, up to a one-pixel shift (MNIST's own centring rounded differently)."""
    return min(float(np.abs(np.roll(result, (dy, dx), (0, 1)) - digit).mean())
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


@pytest.mark.parametrize("label", range(10))
def test_mnist_digit_passes_through_almost_unchanged(label):
    digit = gallery_digit(label)
    result = to_mnist(Image.fromarray(digit))
    assert result.shape == (28, 28) and result.dtype == np.float32
    assert difference(result, digit / 255.0) < 0.04


def test_centre_of_mass_lands_where_mnist_puts_it():
    # MNIST's own digits: centre of mass at (14, 14) in row/column index coordinates.
    mnist_centres = np.array([centre_of_mass(gallery_digit(d) / 255.0) for d in range(10)])
    assert np.abs(mnist_centres - 14.0).max() < 1.0
    result = to_mnist(dark_on_light_upload(gallery_digit(4), 300))
    assert np.allclose(centre_of_mass(result), (14.0, 14.0), atol=0.75)


def test_fits_the_ink_in_a_20_pixel_box_keeping_aspect_ratio():
    page = Image.new("L", (1000, 1000), 255)
    ImageDraw.Draw(page).rectangle([100, 300, 700, 600], outline=0, width=40)  # 601 x 301 box
    result = to_mnist(page)
    rows = np.flatnonzero((result > 0.2).any(axis=1))
    cols = np.flatnonzero((result > 0.2).any(axis=0))
    assert cols[-1] - cols[0] + 1 == 20
    assert 9 <= rows[-1] - rows[0] + 1 <= 11  # 20 * 301 / 601 = 10


def test_dark_on_light_and_light_on_dark_give_the_same_input():
    digit = gallery_digit(7)
    light_on_dark = Image.fromarray(digit).resize((280, 280), Image.Resampling.BICUBIC)
    dark_on_light = Image.fromarray(255 - np.asarray(light_on_dark))
    assert np.abs(to_mnist(light_on_dark) - to_mnist(dark_on_light)).max() < 0.02


def test_shifted_scaled_inverted_digit_is_recovered():
    digit = gallery_digit(2) / 255.0
    result = to_mnist(dark_on_light_upload(gallery_digit(2), 420))
    assert difference(result, digit) < 0.06


@pytest.mark.parametrize("ink", [(0, 0, 0, 255), (255, 255, 255, 255), (200, 30, 30, 255)])
def test_canvas_export_with_transparent_background(ink):
    canvas = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(200, 60), (200, 340)], fill=ink, width=24)
    result = to_mnist(canvas)
    assert result.max() == pytest.approx(1.0)
    assert result[:, 14].sum() > 10 and result[:, :8].sum() == 0  # a vertical bar in the middle


def test_sixteen_bit_png_matches_eight_bit():
    digit = gallery_digit(5)
    deep = Image.fromarray(digit.astype(np.uint16) * 257)  # mode I;16
    assert deep.mode.startswith("I")
    eight = image_bytes_to_mnist(encode(Image.fromarray(digit)))
    sixteen = image_bytes_to_mnist(encode(deep))
    assert np.abs(eight - sixteen).max() < 0.02


@pytest.mark.parametrize("fmt,mode", [("JPEG", "RGB"), ("GIF", "P"), ("BMP", "RGB"), ("WEBP", "RGB"), ("PNG", "LA")])
def test_every_accepted_format_and_mode(fmt, mode):
    digit = Image.fromarray(gallery_digit(0)).resize((112, 112)).convert(mode)
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    result = image_bytes_to_mnist(encode(digit, fmt, **options))
    assert difference(result, gallery_digit(0) / 255.0) < 0.08


def test_hairline_is_thickened_and_marker_thinned_to_mnist_strokes():
    mnist_width = np.median([stroke_width(gallery_digit(1, i) / 255.0) for i in range(4)])
    for width in (2, 160):  # a 1000-pixel canvas: hairline pen, fat marker
        page = Image.new("L", (1000, 1000), 0)
        ImageDraw.Draw(page).line([(500, 100), (500, 900)], fill=255, width=width)
        assert stroke_width(to_mnist(page)) == pytest.approx(mnist_width, abs=1.0)


def test_blank_image_is_refused_with_no_digit_found():
    with pytest.raises(ApiError) as refused:
        to_mnist(Image.new("L", (300, 200), 255))
    assert refused.value.status == 422 and "No digit found" in refused.value.message


def test_photo_noise_and_uneven_light_are_removed():
    rng = np.random.default_rng(0)
    light = np.linspace(150, 230, 600)[None, :] + rng.normal(0, 6, (600, 600))  # grey, shaded paper
    page = Image.fromarray(np.clip(light, 0, 255).astype(np.uint8))
    ImageDraw.Draw(page).ellipse([200, 150, 400, 450], outline=20, width=30)  # a "0"
    result = to_mnist(page)
    rows = np.flatnonzero((result > 0.05).any(axis=1))
    cols = np.flatnonzero((result > 0.05).any(axis=0))
    # No speck of shade counted as ink: the ring alone fills the 20-pixel box (201 x 301 -> 14 x 20).
    assert rows[-1] - rows[0] + 1 == 20 and 13 <= cols[-1] - cols[0] + 1 <= 15
    assert result[14, 14] < 0.1 and result.max() == pytest.approx(1.0)  # the hole stays empty


@pytest.mark.parametrize("data,status", [
    (b"", 400),
    (b"%PDF-1.4 not an image", 415),
    (png_claiming_size(100_000, 100_000), 413),
    (encode(Image.fromarray(gallery_digit(3)).resize((200, 200)))[:300], 400),
])
def test_bad_files_are_refused_with_the_right_status(data, status):
    with pytest.raises(ApiError) as refused:
        image_bytes_to_mnist(data)
    assert refused.value.status == status and refused.value.message


# ---------------------------------------------------------------- the ink, whatever the image's area

def ink_box(result: np.ndarray, level: float = 0.2) -> tuple[int, int]:
    rows = np.flatnonzero((result > level).any(axis=1))
    cols = np.flatnonzero((result > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_a_one_pixel_pen_on_a_big_page_gives_the_same_digit_as_a_normal_pen():
    # 1000x1000 with a 1-pixel pen: the ink is 0.12% of the pixels
    page = seven(1000, 1000, 1)
    assert (np.asarray(page) < 128).mean() < 0.002
    thin, normal = to_mnist(page), to_mnist(seven(280, 280, 20))
    assert ink_box(thin)[0] == 20 and thin.max() == pytest.approx(1.0)
    mnist_width = np.median([stroke_width(gallery_digit(7, i) / 255.0) for i in range(4)])
    assert stroke_width(thin) == pytest.approx(mnist_width, abs=1.0)
    assert np.abs(thin - normal).mean() < 0.08


def test_a_three_pixel_pen_in_a_big_shaded_noisy_photo():
    result = image_bytes_to_mnist(photo_of_seven(4000, 3000, 3))
    clean = to_mnist(seven(400, 300, 2))
    assert np.abs(result - clean).mean() < 0.03
    # no grain or shade taken for ink: nothing lies more than a pixel away from the clean digit
    near = np.asarray(Image.fromarray((clean > 0.05).astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
    assert result[~near].max() < 0.05


def test_a_bold_digit_filling_its_frame_is_kept():
    # a "0" whose stroke (170 of 600 pixels) is wider than a cell of a coarse light-correction grid
    page = shaded_page(600, 600)
    ImageDraw.Draw(page).ellipse([60, 10, 540, 590], outline=25, width=170)
    ring = to_mnist(page)
    assert ink_box(ring)[0] == 20
    assert ring[14, 14] < 0.05  # the hole stays empty
    for side in (ring[4:24, 4:9], ring[4:24, 19:24], ring[4:9, 8:20], ring[19:24, 8:20]):
        assert side.max() > 0.9  # all four sides of the ring are there
    bar = shaded_page(600, 600)
    ImageDraw.Draw(bar).rectangle([200, 0, 400, 599], fill=25)  # a "1" from edge to edge
    one = to_mnist(bar)
    assert ink_box(one) == (20, pytest.approx(5, abs=1)) and one[4:24, 12:16].min() > 0.9


def test_a_digit_touching_the_border_keeps_its_cut_stroke():
    page = Image.new("L", (500, 500), 240)
    ImageDraw.Draw(page).line([(-30, 10), (350, 10), (150, 480)], fill=20, width=40)  # off the top-left
    result = to_mnist(page)
    rows = np.flatnonzero((result > 0.2).any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20
    assert (result[rows[0]] > 0.5).sum() >= 12  # the cut bar of the 7 is its top row


def test_dust_far_from_the_digit_does_not_stretch_the_crop():
    page = seven(800, 800, 30)
    alone = to_mnist(page)
    ImageDraw.Draw(page).rectangle([760, 770, 764, 774], fill=30)  # a speck in the far corner
    assert np.abs(to_mnist(page) - alone).max() < 0.02


def test_grey_paper_with_darker_ink_and_light_ink_on_black_agree():
    grey_paper = to_mnist(seven(400, 400, 24, paper=110, ink=20))  # paper darker than mid-grey
    chalk = to_mnist(seven(400, 400, 24, paper=15, ink=240))
    assert np.abs(grey_paper - chalk).max() < 0.05


@pytest.mark.parametrize("kind", ["uniform", "noise", "speck", "smudge"])
def test_an_almost_empty_image_is_refused_with_no_digit_found(kind):
    with pytest.raises(ApiError) as refused:
        to_mnist(almost_empty(kind))
    assert refused.value.status == 422 and refused.value.message.startswith("No digit found")


def test_the_model_reads_the_hard_cases(client):
    """Through the API, the trained network gives each hard case its digit."""
    bold = shaded_page(600, 600)
    ImageDraw.Draw(bold).ellipse([60, 10, 540, 590], outline=25, width=170)
    border = Image.new("L", (500, 500), 240)
    ImageDraw.Draw(border).line([(-30, 10), (350, 10), (150, 480)], fill=20, width=40)
    cases = {7: [encode(seven(1000, 1000, 1)), photo_of_seven(4000, 3000, 3), encode(border)], 0: [encode(bold)]}
    for label, uploads in cases.items():
        for data in uploads:
            response = client.post("/api/digit-caps", data={"image": (io.BytesIO(data), "digit.png")},
                                   content_type="multipart/form-data")
            assert response.status_code == 200 and response.get_json()["prediction"] == label
    empty = client.post("/api/digit-caps", data={"image": (io.BytesIO(encode(almost_empty("noise"))), "x.png")},
                        content_type="multipart/form-data")
    assert empty.status_code == 422 and empty.get_json()["error"].startswith("No digit found")
