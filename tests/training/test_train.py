"""Training: a few steps lower the loss; the data helpers; the train/evaluate command lines of
every model of the registry."""
from __future__ import annotations

import hashlib
import json
import re

import keras
import numpy as np
import pytest

from datasets.mnist import (
    MNIST_ENV,
    evaluation_batches,
    load_mnist,
    random_shift,
    split_validation,
    to_model_input,
    training_batches,
)
from model.capsnet import build_capsnet
from model.registry import MODELS, card
from support.commands import run_module, run_module_code
from support.digits import gallery, tiny_npz
from training.tasks import task


def np_loss(labels: np.ndarray, images: np.ndarray, lengths: np.ndarray, recon: np.ndarray) -> float:
    """Eq. 4 + 0.0005 * SSE, averaged over the batch, in numpy."""
    present = np.eye(10)[labels]
    margin = (present * np.maximum(0.9 - lengths, 0) ** 2
              + 0.5 * (1 - present) * np.maximum(lengths - 0.1, 0) ** 2).sum(-1)
    sse = ((images.reshape(len(images), -1) - recon.reshape(len(recon), -1)) ** 2).sum(-1)
    return float(np.mean(margin + 0.0005 * sse))


# ---------------------------------------------------------------- a few training steps

def test_a_few_training_steps_lower_the_loss():
    keras.utils.set_random_seed(0)
    images, labels = gallery()
    x = to_model_input(images)
    y = labels.astype(np.int32)
    model = build_capsnet()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)

    def loss_now() -> float:
        out = model(x, labels=y)  # the training forward pass: decoder masked by the true label
        return np_loss(y, x, np.asarray(out["lengths"], np.float64),
                       np.asarray(out["reconstruction"], np.float64))

    before = loss_now()
    # at initialisation the loss is large: all lengths are far from their margins
    assert before > 0.1
    first_batch = np_loss(y[:10], x[:10], *(np.asarray(model(x[:10], labels=y[:10])[k], np.float64)
                                            for k in ("lengths", "reconstruction")))

    class FirstBatch(keras.callbacks.Callback):
        logs = None

        def on_train_batch_end(self, batch, logs=None):
            if FirstBatch.logs is None:
                FirstBatch.logs = dict(logs)

    history = model.fit(x, y, batch_size=10, epochs=6, shuffle=False, verbose=0,
                        callbacks=[FirstBatch()])
    after = loss_now()
    losses = history.history["loss"]
    assert len(losses) == 6 and all(np.isfinite(losses))
    assert set(history.history) == {"loss", "accuracy"}
    # the loss train_step reports for the first batch is the paper's loss (computed in numpy
    # above, before any update) of those 10 images, with the decoder masked by the true label
    assert FirstBatch.logs["loss"] == pytest.approx(first_batch, rel=1e-4)
    # Adam's first steps overshoot (every weight moves by ~lr at once: the loss roughly doubles
    # in epoch 1), but after 6 epochs the loss on the 40 images is well below where it started
    # (0.64 -> ~0.25 for seeds 0, 1, 2)
    assert after < 0.6 * before, (before, after, losses)
    assert losses[-1] < losses[0]


def test_learning_rate_schedule_decays_per_epoch():
    from training.train import learning_rate_schedule
    schedule = learning_rate_schedule(1e-3, 0.9, steps_per_epoch=5)
    # staircase: lr = 1e-3 * 0.9 ** (step // 5)
    #   steps 0 and 4 -> 1e-3; step 5 -> 9e-4; step 12 -> 1e-3 * 0.81 = 8.1e-4
    for step, expected in [(0, 1e-3), (4, 1e-3), (5, 9e-4), (12, 8.1e-4)]:
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_resume_from_an_exported_checkpoint(tmp_path):
    from model.checkpoint import export_weights
    from training.train import learning_rate_schedule, resume_from_export
    keras.utils.set_random_seed(1)
    trained = build_capsnet()
    output = tmp_path / "capsnet.weights.h5"
    export_weights(trained, output, {"epochs": 3, "training_seconds": 12.5,
                                     "validation_accuracy": 0.25, "validation_loss": 0.04,
                                     "learning_rate": {"initial": 1e-3, "decay_per_epoch": 0.9}})
    model = build_capsnet()
    optimizer = keras.optimizers.Adam(learning_rate_schedule(1e-3, 0.9, steps_per_epoch=7))
    model.compile(optimizer=optimizer, jit_compile=False)
    epochs, state = resume_from_export(model, optimizer, str(output), steps_per_epoch=7)
    assert epochs == 3
    assert state == {"training_seconds": 12.5, "epochs": 3, "best_validation_accuracy": 0.25,
                     "best_validation_loss": 0.04,
                     "learning_rate_schedule": [{"from_epoch": 1, "initial": 1e-3, "decay_per_epoch": 0.9}]}
    # 3 epochs * 7 steps = 21 iterations -> lr = 1e-3 * 0.9^3 = 7.29e-4
    assert int(optimizer.iterations.numpy()) == 21
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(7.29e-4, rel=1e-5)
    for original, restored in zip(trained.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(original), np.asarray(restored))
    # an export without validation_loss (older metadata): no Infinity in the JSON state file
    export_weights(trained, output, {"epochs": 3, "validation_accuracy": 0.25})
    _, state = resume_from_export(build_capsnet(), keras.optimizers.Adam(), str(output), steps_per_epoch=7)
    assert "best_validation_loss" not in state
    json.dumps(state, allow_nan=False)
    # nothing exported: a clear exit instead of training from scratch
    with pytest.raises(SystemExit, match="--resume"):
        resume_from_export(build_capsnet(), keras.optimizers.Adam(), str(tmp_path / "none.weights.h5"), 7)


# ---------------------------------------------------------------- data helpers

def blob() -> np.ndarray:
    """A 28x28x1 'digit' with ink in rows 8..19, cols 9..17: 8 pixels from every border."""
    image = np.zeros((28, 28, 1), np.float32)
    rng = np.random.default_rng(0)
    image[8:20, 9:18, 0] = rng.uniform(0.2, 1.0, size=(12, 9))
    return image


def test_random_shift_only_moves_the_ink():
    image = blob()
    shifts = set()
    # 25 copies shifted in one call: each copy gets its own shift
    for shifted in random_shift(np.stack([image] * 25), np.random.default_rng(0), max_shift=2):
        assert shifted.shape == (28, 28, 1)
        # sum of ink preserved: 108 pixels moved, none cut by the border
        np.testing.assert_allclose(shifted.sum(), image.sum(), rtol=1e-6)
        # the result is the image rolled by some (dy, dx) with |dy|, |dx| <= 2
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(shifted, np.roll(image, (dy, dx), axis=(0, 1)))]
        assert len(matches) == 1, "not a shift of at most 2 pixels"
        shifts.add(matches[0])
    # 25 draws from 25 equally likely shifts: seeing only one would be a broken augmentation
    assert len(shifts) > 1


def test_random_shift_zero_is_identity():
    image = blob()
    shifted = random_shift(image[None], np.random.default_rng(0), max_shift=0)
    np.testing.assert_array_equal(shifted[0], image)


def test_to_model_input():
    images = np.array([[[0, 255], [51, 102]]], np.uint8)
    x = to_model_input(images)
    assert x.shape == (1, 2, 2, 1) and x.dtype == np.float32
    # 51 / 255 = 0.2, 102 / 255 = 0.4
    np.testing.assert_allclose(x[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)


def numbered(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n images whose pixels all equal their index (so each one is identifiable), labels = index."""
    images = np.repeat(np.arange(n, dtype=np.uint8)[:, None, None], 28, 1).repeat(28, 2)
    return images, np.arange(n, dtype=np.uint8)


def test_split_validation_sizes_and_disjointness():
    images, labels = numbered(50)
    (x_fit, y_fit), (x_val, y_val) = split_validation(images, labels, 10, seed=0)
    assert len(x_fit) == len(y_fit) == 40 and len(x_val) == len(y_val) == 10
    # pairs kept together: image k still has label k
    np.testing.assert_array_equal(x_fit[:, 0, 0], y_fit)
    np.testing.assert_array_equal(x_val[:, 0, 0], y_val)
    assert set(y_fit).isdisjoint(set(y_val))
    assert sorted(set(y_fit) | set(y_val)) == list(range(50))
    # the same seed holds out the same images; another seed other ones
    (_, _), (_, again) = split_validation(images, labels, 10, seed=0)
    np.testing.assert_array_equal(again, y_val)
    (_, _), (_, other) = split_validation(images, labels, 10, seed=1)
    assert set(other) != set(y_val)
    # size 0: nothing held out
    (x_all, _), (x_none, _) = split_validation(images, labels, 0)
    assert len(x_all) == 50 and len(x_none) == 0


@pytest.mark.parametrize("size", [-1, 50, 51])
def test_split_validation_rejects_bad_sizes(size):
    images, labels = numbered(50)
    with pytest.raises(ValueError):
        split_validation(images, labels, size)


def test_batches():
    images, labels = numbered(25)
    training = training_batches(images, labels, batch_size=10, max_shift=0)
    # 25 images in batches of 10, the remainder dropped: 2 batches
    assert len(training) == 2
    epochs = []
    for _ in range(2):
        batches = [training[i] for i in range(len(training))]
        assert [x.shape for x, _ in batches] == [(10, 28, 28, 1)] * 2
        for x, y in batches:
            assert x.dtype == np.float32 and y.dtype == np.int32
            # without shifts each image is still its own label's constant image / 255
            np.testing.assert_allclose(x[:, 0, 0, 0], y / 255.0, rtol=1e-6)
        seen = np.concatenate([y for _, y in batches])
        assert len(set(seen)) == 20  # no image twice in an epoch
        epochs.append(seen)
        training.on_epoch_end()
    assert not np.array_equal(*epochs), "the order must change between epochs"
    evaluation = evaluation_batches(images, labels, batch_size=10)
    assert [len(evaluation[i][1]) for i in range(len(evaluation))] == [10, 10, 5]  # remainder kept
    np.testing.assert_array_equal(np.concatenate([evaluation[i][1] for i in range(3)]), labels)


def test_load_mnist_from_a_path_and_the_environment(tmp_path, monkeypatch, tiny_mnist):
    path = tiny_mnist
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    assert x_train.shape == (60, 28, 28) and y_train.shape == (60,)
    assert x_test.shape == (20, 28, 28) and y_test.shape == (20,)
    assert x_train.dtype == np.uint8
    images, labels = gallery()
    np.testing.assert_array_equal(x_train[:40], images)
    np.testing.assert_array_equal(y_test, labels[::2])

    monkeypatch.setenv(MNIST_ENV, str(path))
    (env_x, _), (_, env_y) = load_mnist()
    np.testing.assert_array_equal(env_x, x_train)
    np.testing.assert_array_equal(env_y, y_test)
    # an explicit path wins over the environment
    other = tiny_npz(tmp_path / "other.npz", train=40, test=10)
    assert load_mnist(other)[0][0].shape == (40, 28, 28)
    # a missing file is an error naming it, not a silent download
    monkeypatch.setenv(MNIST_ENV, str(tmp_path / "missing.npz"))
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        load_mnist()


# ---------------------------------------------------------------- the command lines

@pytest.mark.slow
@pytest.mark.parametrize("model_id", list(MODELS))
def test_train_resume_and_evaluate_command_lines(tmp_path, model_id):
    """Each model of the registry by its name: one epoch, a resumed second one, and evaluate on
    a tiny MNIST (30 training images, 10 held out: 2 steps of 10 an epoch; 10 test digits, or
    10 pairs made from them). What differs by model is read from its card and its task."""
    model_card, unit, title = card(model_id), card(model_id).test_unit, task(model_id).title
    data = tiny_npz(tmp_path / "tiny.npz", train=30, test=10)
    weights = tmp_path / f"{model_id}.weights.h5"
    backup = tmp_path / "backup"
    common = ["--model", model_id, "--data", str(data), "--batch-size", "10", "--validation-size", "10",
              "--output", str(weights), "--backup-dir", str(backup)]

    run_module("training.train", *common, "--epochs", "1")
    meta_file = tmp_path / f"{model_id}.json"
    metadata = json.loads(meta_file.read_text())
    built = model_card.build()
    assert (metadata["model"], metadata["name"], metadata["epochs"]) == (model_id, model_card.name, 1)
    assert metadata["parameters"] == built.count_params()
    assert metadata.get("routing_iterations") == getattr(built, "routing_iterations", None)  # CapsNets: 3
    assert metadata[f"test_{unit}"] == 10 and {key for key in metadata if key.startswith("test_")} == {
        "test_accuracy", f"test_{unit}"}  # one pair per test image
    assert metadata["validation_images"] == 10 and metadata["batch_size"] == 10
    assert metadata["weights_file"] == weights.name
    assert metadata["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    # accuracy over 10 test images (pairs) is a multiple of 1/10
    assert 0.0 <= metadata["test_accuracy"] <= 1.0
    assert metadata["test_accuracy"] * 10 == pytest.approx(round(metadata["test_accuracy"] * 10))
    # 30 images - 10 held out = 20 -> 2 steps per epoch
    assert metadata["learning_rate"]["steps_per_epoch"] == 2
    state = json.loads((backup / "training_state.json").read_text())
    assert state["epochs"] == 1 and [h["epoch"] for h in state["history"]] == [1]
    assert state["learning_rate_schedule"] == [{"from_epoch": 1, "initial": 1e-3, "decay_per_epoch": 0.9}]

    resumed = run_module("training.train", *common, "--resume", "--epochs", "2", "--lr-decay", "0.5")
    # it continues with epoch 2 instead of starting over
    assert "Epoch 2/2" in resumed and "Epoch 1/2" not in resumed
    state = json.loads((backup / "training_state.json").read_text())
    assert state["epochs"] == 2 and [h["epoch"] for h in state["history"]] == [1, 2]
    # the changed decay is recorded from the epoch it applies to
    assert state["learning_rate_schedule"] == [{"from_epoch": 1, "initial": 1e-3, "decay_per_epoch": 0.9},
                                               {"from_epoch": 2, "initial": 1e-3, "decay_per_epoch": 0.5}]
    metadata = json.loads(meta_file.read_text())
    # exported again only when epoch 2 did better: higher accuracy, or equal and lower loss
    first, second = ((h["val_accuracy"], -h["val_loss"]) for h in state["history"])
    assert metadata["epochs"] == (2 if second > first else 1)
    assert metadata["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()

    report = run_module("training.evaluate", "--model", model_id, "--data", str(data), "--checkpoint", str(weights))
    assert f"sha256 {metadata['sha256'][:12]}" in report.splitlines()[0]
    last = report.strip().splitlines()[-1]
    match = re.fullmatch(rf"{title} accuracy: (0\.\d{{4}}|1\.0000) on 10 {unit}", last)
    assert match, report
    # the same float32 weights on the same 10 images (fixed pairs): the accuracy recorded at export
    assert match.group(1) == f"{metadata['test_accuracy']:.4f}"


DISTRIBUTED_FIRST_STEP = """
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from PIL import Image
from model.capsnet import build_capsnet
from model.registry import MODELS, card
from datasets.mnist import evaluation_batches

paths = sorted(__import__("pathlib").Path("web/gallery").glob("*.png"))[:20]
images = np.stack([np.asarray(Image.open(p).convert("L")) for p in paths])
labels = np.array([int(p.name.split("_")[0]) for p in paths], np.int32)
keras.utils.set_random_seed(0)
initial = build_capsnet().get_weights()

RATE = 1000.0  # a long step, so that float32 weights resolve the gradient to ~1e-7 of itself

def first_step(strategy):
    # One step of plain SGD: the weights move by minus the rate times the applied gradient.
    with strategy.scope():
        model = build_capsnet()
        model.set_weights(initial)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=RATE), jit_compile=False)
    history = model.fit(evaluation_batches(images, labels, 20), epochs=1, verbose=0)
    steps = [((before - after) / RATE).tolist() for before, after in zip(initial, model.get_weights())]
    return {"replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"][0], "gradients": steps}

one = first_step(tf.distribute.OneDeviceStrategy("/cpu:0"))
two = first_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
json.dump({"one": one, "two": two}, open(sys.argv[1], "w"))
"""


@pytest.mark.slow
def test_two_replicas_give_the_first_batch_the_same_loss_and_gradients_as_one(tmp_path):
    """tf.distribute (two logical CPUs standing in for two GPUs) splits a batch of 20 into two
    halves and sums their gradients: each replica's loss must be divided by 2 for the sum to be
    the one-replica gradient, and the logged loss must still be the batch's mean."""
    result_path = tmp_path / "first_step.json"
    run_module_code(DISTRIBUTED_FIRST_STEP, str(result_path))
    result = json.loads(result_path.read_text())
    one, two = result["one"], result["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)

    # the batch's loss, computed here in numpy from the model's outputs at the initial weights
    keras.utils.set_random_seed(0)
    model = build_capsnet()
    images, labels = gallery()
    x, y = to_model_input(images[:20]), labels[:20].astype(np.int32)
    out = model(x, labels=y)
    expected = np_loss(y, x, np.asarray(out["lengths"], np.float64), np.asarray(out["reconstruction"], np.float64))
    assert one["loss"] == pytest.approx(expected, rel=1e-4)
    assert two["loss"] == pytest.approx(expected, rel=1e-4)

    # every weight's gradient alike (float32 sums in another order); a missing 1/2 would double them
    for single, mirrored in zip(one["gradients"], two["gradients"]):
        single, mirrored = np.asarray(single), np.asarray(mirrored)
        scale = np.abs(single).max()
        assert scale > 0
        assert np.abs(mirrored - single).max() <= 1e-3 * scale
    total_one = np.sqrt(sum((np.asarray(g) ** 2).sum() for g in one["gradients"]))
    total_two = np.sqrt(sum((np.asarray(g) ** 2).sum() for g in two["gradients"]))
    assert total_two / total_one == pytest.approx(1.0, abs=1e-4)


