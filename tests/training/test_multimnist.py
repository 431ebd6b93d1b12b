"""MultiMNIST: the pairs (placement by hand), the 36x36 CapsNet against numpy, its loss and pair
accuracy computed independently, a few training steps (its command lines: test_train.py)."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops
from numpy.lib.stride_tricks import sliding_window_view

from datasets.pairs import compose, draw_pairs, evaluation_pairs, overlay
from model.losses import margin_loss
from model.multimnist import MultiCapsNet, build_multimnist, longest, same_pair
from model.registry import card
from model.spec import PAIR_SHAPE as CANVAS_SHAPE
from support.digits import gallery
from training.tasks import PairBatches
from training.tasks import pair_accuracy as accuracy_report
from training.tasks import pair_evaluation_batches as evaluation_batches
from training.tasks import pair_training_batches as training_batches

# ---------------------------------------------------------------- the pairs


def test_draw_pairs():
    labels = np.arange(30) % 3
    first, second, offsets = draw_pairs(labels, np.random.default_rng(0))
    assert sorted(first) == list(range(30))  # every image is a first digit once
    assert not np.array_equal(first, np.arange(30))  # ... in a random order
    assert np.all(labels[first] != labels[second])  # two different classes
    assert offsets.shape == (30, 2, 2) and offsets.min() == 0 and offsets.max() == 8  # 4 +- 4
    # 30 pairs x 4 coordinates drawn from 9 values: every value turns up
    assert set(offsets.ravel()) == set(range(9))
    first, second, _ = draw_pairs(labels, np.random.default_rng(0), shuffle=False)
    np.testing.assert_array_equal(first, np.arange(30))
    assert np.all(labels[first] != labels[second])
    # both other classes are chosen as partners (uniform over the other classes' images)
    assert set(labels[second[labels[first] == 0]]) == {1, 2}
    with pytest.raises(ValueError, match="two classes"):
        draw_pairs(np.full(5, 7), np.random.default_rng(0))


def test_overlay_places_each_digit_and_takes_the_maximum():
    a = np.full((28, 28), 100, np.uint8)  # a full square of 100
    b = np.zeros((28, 28), np.uint8)
    b[10:12] = 200  # two rows of 200
    images, labels = np.stack([a, b]), np.array([3, 8])
    # a's corner at (row 0, col 8), b's at (row 8, col 0)
    x, y = overlay(images, labels, np.array([0]), np.array([1]), np.array([[[0, 8], [8, 0]]]))
    assert x.shape == (1, 36, 36, 1) and x.dtype == np.float32
    assert y["images"].shape == (1, 2, 36, 36, 1)
    np.testing.assert_array_equal(y["labels"], [[3, 8]])
    pixel = x[0, :, :, 0] * 255
    # a covers rows 0..27, cols 8..35; b's rows 10, 11 land on rows 18, 19, cols 0..27
    for (row, col), expected in {(0, 8): 100, (0, 7): 0, (27, 35): 100, (28, 8): 0, (35, 35): 0,
                                 (18, 0): 200, (19, 27): 200, (18, 28): 100, (17, 0): 0, (20, 7): 0,
                                 (18, 8): 200}.items():  # (18, 8): both, the maximum wins
        assert pixel[row, col] == pytest.approx(expected, abs=1e-3), (row, col)
    # each digit alone, whole: 784 pixels of 100; 56 pixels of 200
    assert y["images"][0, 0].sum() * 255 == pytest.approx(784 * 100, rel=1e-5)
    assert y["images"][0, 1].sum() * 255 == pytest.approx(56 * 200, rel=1e-5)


def test_overlay_of_real_digits_against_padding():
    images, labels = gallery()
    rng = np.random.default_rng(1)
    first, second, offsets = draw_pairs(labels, rng)
    x, y = overlay(images, labels, first, second, offsets)
    for k in range(len(first)):
        # each digit placed = the 28x28 image zero-padded by (top, 8 - top) rows, (left, 8 - left) cols
        alone = [np.pad(images[index], ((top, 8 - top), (left, 8 - left))) / 255.0
                 for index, (top, left) in zip((first[k], second[k]), offsets[k])]
        np.testing.assert_allclose(y["images"][k, :, :, :, 0], alone, atol=1e-6)
        np.testing.assert_allclose(x[k, :, :, 0], np.maximum(*alone), atol=1e-6)
    np.testing.assert_array_equal(y["labels"], np.stack([labels[first], labels[second]], 1))


def test_compose_places_by_shift_from_the_centre():
    a = np.zeros((28, 28), np.float32)
    a[0, 0] = 0.25  # the digit's top-left pixel
    b = np.zeros((28, 28), np.float32)
    b[27, 27], b[0, 0] = 0.5, 1.0
    # a shifted (dy, dx) = (-4, 3): corner at (0, 7); b at (4, -4): corner (8, 0)
    canvas = compose(np.stack([a, b]), np.array([[-4, 3], [4, -4]]))
    assert canvas.shape == (36, 36)
    expected = np.zeros((36, 36), np.float32)
    expected[0, 7], expected[8, 0], expected[35, 27] = 0.25, 1.0, 0.5
    np.testing.assert_array_equal(canvas, expected)
    # unshifted, the two coincide at (4, 4) and the maximum wins
    assert compose(np.stack([a, b]), np.zeros((2, 2), int))[4, 4] == 1.0


def test_training_pairs_change_every_epoch():
    images, labels = gallery()
    batches = training_batches(images, labels, batch_size=15, seed=0)
    assert len(batches) == 2  # 40 pairs in batches of 15, the remainder dropped
    assert [batches[i][0].shape for i in range(2)] == [(15, 36, 36, 1)] * 2
    before = [part.copy() for part in batches.pairs]
    batches.on_epoch_end()
    assert sorted(batches.pairs[0]) == list(range(40))
    assert not np.array_equal(before[0], batches.pairs[0])  # a new order,
    assert not np.array_equal(before[1][np.argsort(before[0])],
                              batches.pairs[1][np.argsort(batches.pairs[0])])  # new partners,
    assert not np.array_equal(before[2], batches.pairs[2])  # new shifts


def test_evaluation_pairs_are_fixed():
    images, labels = gallery()
    batches = evaluation_batches(images, labels, batch_size=15)
    assert [len(batches[i][0]) for i in range(len(batches))] == [15, 15, 10]  # remainder kept

    def whole(pair_batches: PairBatches) -> tuple[np.ndarray, np.ndarray]:
        parts = [pair_batches[i] for i in range(len(pair_batches))]
        return np.concatenate([x for x, _ in parts]), np.concatenate([y["labels"] for _, y in parts])

    x, pair_labels = whole(batches)
    np.testing.assert_array_equal(pair_labels[:, 0], labels)  # image k is pair k's first digit
    batches.on_epoch_end()
    # the same pairs after an epoch, in another instance, at any batch size
    for again in (batches, evaluation_batches(images, labels, 15), evaluation_batches(images, labels, 7)):
        x_again, labels_again = whole(again)
        np.testing.assert_array_equal(x_again, x)
        np.testing.assert_array_equal(labels_again, pair_labels)
    # ... and the pairs the export and its measurement make in one go (static_site/)
    x_once, y_once = overlay(images, labels, *evaluation_pairs(labels))
    np.testing.assert_array_equal(x_once, x)
    np.testing.assert_array_equal(y_once["labels"], pair_labels)


# ---------------------------------------------------------------- loss and accuracy


def test_margin_loss_with_two_digits_present():
    lengths = np.array([[0.95, 0.8, 0.3]], np.float32)
    # digits 0 and 1 present: (0.9 - 0.95 -> 0)^2 + (0.9 - 0.8)^2 = 0.01; absent 0.3: 0.5 * 0.2^2 = 0.02
    assert float(margin_loss(np.array([[1, 1, 0]], np.float32), lengths)) == pytest.approx(0.03, rel=1e-5)
    # one digit present as multi-hot = the class index
    rows = np.array([[0.2, 0.8, 0.05], [0.5, 0.5, 0.5]], np.float32)
    assert float(margin_loss(np.eye(3, dtype=np.float32)[[0, 2]], rows)) == \
        pytest.approx(float(margin_loss(np.array([0, 2]), rows)), rel=1e-6)


def test_same_pair():
    predicted = np.array([[3, 7], [7, 3], [3, 7], [1, 2]])
    labels = np.array([[3, 7], [3, 7], [3, 8], [2, 9]])
    np.testing.assert_array_equal(ops.convert_to_numpy(same_pair(predicted, labels)), [True, True, False, False])


def test_longest_is_the_answer_in_increasing_order():
    scores = np.array([[0.1, 0.9, 0.3, 0.8], [0.7, 0.2, 0.6, 0.1]])
    np.testing.assert_array_equal(longest(scores, 2), [[1, 3], [0, 2]])
    np.testing.assert_array_equal(longest(scores, 1), [[1], [0]])
    # along the last axis, per routing iteration too
    np.testing.assert_array_equal(longest(scores[:, None], 2)[:, 0], [[1, 3], [0, 2]])


class ConstantPair(keras.Model):
    """Answers "0 and 1" for every image."""

    def call(self, images):
        return {"pair": ops.zeros((ops.shape(images)[0], 2), "int32") + ops.array([0, 1], "int32")}


def test_accuracy_report_counts_whole_pairs():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 28, 28)).astype(np.uint8)
    labels = np.arange(30) % 3
    stub = ConstantPair()
    stub(np.zeros((1, *CANVAS_SHAPE), np.float32))  # built, as JAX's stateless_call requires
    report = accuracy_report(stub, images, labels, batch_size=8)
    # independently: the fixed evaluation pairs, and which of them are {0, 1}
    truth = np.concatenate([evaluation_batches(images, labels, 30)[0][1]["labels"]])
    right = np.array([set(pair) == {0, 1} for pair in truth])
    assert 0 < right.mean() < 1
    assert report["pairs"] == 30
    assert report["accuracy"] == pytest.approx(right.mean())
    assert report["per_class_accuracy"] == pytest.approx(
        {"0": right[(truth == 0).any(1)].mean(), "1": right[(truth == 1).any(1)].mean(), "2": 0.0})


# ---------------------------------------------------------------- the 36x36 network


@pytest.fixture(scope="module")
def model() -> MultiCapsNet:
    keras.utils.set_random_seed(0)
    return build_multimnist()


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, dict]:
    images, labels = gallery()
    return evaluation_batches(images, labels, batch_size=4)[0]


def test_parameter_count(model):
    conv1 = 9 * 9 * 256 + 256  # 20,992
    primary = 9 * 9 * 256 * 256 + 256  # 5,308,672
    transform = 3200 * 8 * 10 * 16  # 32 types x 10x10 positions: 4,096,000
    decoder = (160 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 1296 + 1296)  # 1,936,144
    assert model.count_params() == conv1 + primary + transform + decoder == 11_361_808
    assert model.digit_caps.count_params() == transform and model.decoder.count_params() == decoder


def test_forward_pass_against_numpy(model, pairs):
    """36x36 -> Conv1 28x28 -> PrimaryCaps 10x10x32 -> routing -> the two longest -> two reconstructions."""
    x, y = pairs
    out = {k: np.asarray(v) for k, v in model(x, labels=y["labels"]).items()}
    w = {v.path.split("/", 1)[1]: np.asarray(v, np.float64) for v in model.weights}
    image = x[0].astype(np.float64)
    conv1 = np.maximum(sliding_window_view(image, (9, 9, 1)).reshape(784, 81) @ w["conv1/kernel"].reshape(81, 256)
                       + w["conv1/bias"], 0).reshape(28, 28, 256)
    np.testing.assert_allclose(out["conv1"][0], conv1, rtol=1e-4, atol=1e-4)
    patches = sliding_window_view(conv1, (9, 9, 256))[::2, ::2].reshape(100, 9 * 9 * 256)
    u = (patches @ w["primary_caps/conv/kernel"].reshape(-1, 256) + w["primary_caps/conv/bias"]).reshape(3200, 8)
    np.testing.assert_allclose(out["primary_caps_pre_squash"][0], u, rtol=1e-3, atol=1e-4)
    n2 = np.sum(u**2, -1, keepdims=True)
    u_hat = np.einsum("ik,ikm->im", n2 / (1 + n2) * u / np.sqrt(n2), w["digit_caps/transform"]).reshape(3200, 10, 16)
    b = np.zeros((3200, 10))
    for _ in range(3):
        c = np.exp(b) / np.exp(b).sum(-1, keepdims=True)
        s = np.einsum("ij,ijd->jd", c, u_hat)
        n2 = np.sum(s**2, -1, keepdims=True)
        v = n2 / (1 + n2) * s / np.sqrt(n2)
        b = b + np.einsum("ijd,jd->ij", u_hat, v)
    lengths = np.linalg.norm(v, axis=-1)
    np.testing.assert_allclose(out["lengths"][0], lengths, rtol=1e-3, atol=1e-5)
    np.testing.assert_array_equal(out["pair"][0], np.argsort(-lengths)[:2])  # longest first
    for k, digit in enumerate(y["labels"][0]):  # each true digit from its own capsule only
        masked = np.zeros((10, 16))
        masked[digit] = v[digit]
        h = np.maximum(masked.reshape(160) @ w["decoder/fc1/kernel"] + w["decoder/fc1/bias"], 0)
        h = np.maximum(h @ w["decoder/fc2/kernel"] + w["decoder/fc2/bias"], 0)
        redrawn = 1 / (1 + np.exp(-(h @ w["decoder/fc3/kernel"] + w["decoder/fc3/bias"])))
        np.testing.assert_allclose(out["reconstructions"][0, k], redrawn.reshape(36, 36, 1), rtol=1e-3, atol=1e-5)
    # without labels the decoder redraws the predicted pair
    served = np.asarray(model(x[:1])["reconstructions"])
    np.testing.assert_allclose(served[0], np.asarray(model(x[:1], labels=out["pair"][:1])["reconstructions"])[0],
                               atol=1e-6)


def hand_loss(labels: np.ndarray, lengths: np.ndarray, alone: np.ndarray, redrawn: np.ndarray) -> float:
    """Eq. 4 with both digits present + 0.0005 x each digit's squared error, averaged over pairs."""
    present = np.zeros_like(lengths)
    np.put_along_axis(present, labels, 1.0, axis=1)
    margin = (present * np.maximum(0.9 - lengths, 0) ** 2
              + 0.5 * (1 - present) * np.maximum(lengths - 0.1, 0) ** 2).sum(-1)
    sse = ((alone - redrawn) ** 2).reshape(len(labels), -1).sum(-1)
    return float(np.mean(margin + 0.0005 * sse))


def test_loss_and_accuracy_metric(model, pairs):
    x, y = pairs
    out = model(x, labels=y["labels"])
    expected = hand_loss(y["labels"], np.asarray(out["lengths"], np.float64),
                         y["images"].astype(np.float64), np.asarray(out["reconstructions"], np.float64))
    for training in (True, False):  # masked by the true digits either way
        loss = model.compute_loss(x, y, model(x), training=training)
        assert float(loss) == pytest.approx(expected, rel=1e-4)
    # the metric: 2 of 4 pairs right (one in the other order), whatever the lengths say
    truth = y["labels"]
    absent = [[d for d in range(10) if d not in pair] for pair in truth]
    guessed = np.array([truth[0, ::-1], truth[1], [truth[2, 0], absent[2][0]], absent[3][:2]])
    model.accuracy_tracker.reset_state()
    model.compute_metrics(x, y, {"pair": guessed})
    assert float(model.accuracy_tracker.result()) == pytest.approx(0.5)
    model.accuracy_tracker.reset_state()


def test_a_few_training_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    images, labels = gallery()
    x, y = evaluation_batches(images, labels, batch_size=40)[0]
    model = build_multimnist()
    # 3e-4: at 1e-3 Adam's first steps on batches of 10 overshoot (the loss doubles) for more steps
    model.compile(optimizer=keras.optimizers.Adam(3e-4), jit_compile=False)

    def loss_now(count: int = 40) -> float:
        out = model(x[:count], labels=y["labels"][:count])
        return hand_loss(y["labels"][:count], np.asarray(out["lengths"], np.float64),
                         y["images"][:count].astype(np.float64), np.asarray(out["reconstructions"], np.float64))

    before, first_batch = loss_now(), loss_now(10)

    class FirstBatch(keras.callbacks.Callback):
        logs = None

        def on_train_batch_end(self, batch, logs=None):
            FirstBatch.logs = FirstBatch.logs or dict(logs)

    history = model.fit(x, y, batch_size=10, epochs=4, shuffle=False, verbose=0, callbacks=[FirstBatch()])
    # train_step's loss on the first 10 pairs, before any update, is the hand-computed one
    assert FirstBatch.logs["loss"] == pytest.approx(first_batch, rel=1e-4)
    assert set(history.history) == {"loss", "accuracy"}
    # 16 steps on the same 40 pairs: the loss falls well below where it started (1.28 -> 0.88)
    assert loss_now() < 0.8 * before, (before, loss_now(), history.history["loss"])


def test_config_round_trip(model):
    clone = MultiCapsNet.from_config(model.get_config())
    assert clone.image_shape == CANVAS_SHAPE and clone.routing_iterations == 3
    assert card("multimnist").test_unit == "pairs"
    assert card("multimnist").checkpoint.name == "multimnist.weights.h5"
