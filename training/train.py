"""Train a model of the zoo: `python -m training.train [--model capsnet|cnn|multimnist] --data PATH --epochs N [--resume]`.

Every epoch: a resumable backup (weights and optimizer state) in --backup-dir, and, when
validation accuracy improves, the weights exported to --output with their metadata.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import platform
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from datasets.mnist import load_mnist, split_validation
from model.checkpoint import export_weights, read_metadata, serving_copy
from model.registry import MODELS, card
from model.spec import ROUTING_ITERATIONS
from training.tasks import task

STATE_FILE = "training_state.json"


def learning_rate_schedule(initial: float, decay: float, steps_per_epoch: int):
    """lr = initial * decay^epoch; it follows optimizer.iterations, so resuming restores it."""
    return keras.optimizers.schedules.ExponentialDecay(
        initial, decay_steps=steps_per_epoch, decay_rate=decay, staircase=True)


class ExportBest(keras.callbacks.Callback):
    """After each epoch: record progress; on a new best validation accuracy, export the weights."""

    def __init__(self, args: argparse.Namespace, test_set, steps_per_epoch: int, state: dict):
        super().__init__()
        self.args, self.test_set, self.steps_per_epoch, self.state = args, test_set, steps_per_epoch, state
        self.task, self.unit = task(args.model), card(args.model).test_unit
        self.run_started = time.time()
        self.seconds_before = state.get("training_seconds", 0.0)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.state["training_seconds"] = self.seconds_before + time.time() - self.run_started
        self.state["epochs"] = epoch + 1
        self.state.setdefault("history", []).append(
            {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})
        validation = float(logs.get("val_accuracy", 0.0))
        loss = float(logs.get("val_loss", float("inf")))
        # Ties on accuracy are common (5,000 images: steps of 0.02%): then the lower loss wins.
        best = (self.state.get("best_validation_accuracy", -1.0),
                -self.state.get("best_validation_loss", float("inf")))
        if (validation, -loss) > best:
            self.state["best_validation_accuracy"] = validation
            self.state["best_validation_loss"] = loss
            self.export(epoch + 1, validation, loss)
        Path(self.args.backup_dir, STATE_FILE).write_text(json.dumps(self.state, indent=1))

    def export(self, epochs: int, validation_accuracy: float, validation_loss: float) -> None:
        served = serving_copy(self.model)  # measure the float32 model users will get
        report = self.task.accuracy_report(served, *self.test_set)
        optimizer = self.model.optimizer
        metadata = export_weights(served, self.args.output, {
            "test_accuracy": report["accuracy"],
            f"test_{self.unit}": report[self.unit],
            "per_class_accuracy": report["per_class_accuracy"],
            "validation_accuracy": validation_accuracy,
            "validation_loss": validation_loss,
            "validation_images": self.args.validation_size,
            "epochs": epochs,
            "training_seconds": round(self.state["training_seconds"], 1),
            "model": self.args.model,
            "name": card(self.args.model).name,
            "parameters": int(self.model.count_params()),
            **({"routing_iterations": self.model.routing_iterations}
               if hasattr(self.model, "routing_iterations") else {}),
            "batch_size": self.args.batch_size,
            "learning_rate": {
                "initial": self.args.learning_rate, "decay_per_epoch": self.args.lr_decay,
                "steps_per_epoch": self.steps_per_epoch,
                "current": float(keras.ops.convert_to_numpy(optimizer.learning_rate)),
                "schedule": self.state.get("learning_rate_schedule", []),
            },
            "seed": self.args.seed,
            "conv_dtype": self.args.conv_dtype or "float32",
            "versions": library_versions(),
        })
        print(f"\nexported epoch {epochs}: validation {validation_accuracy:.4f}, "
              f"test {metadata['test_accuracy']:.4f} -> {self.args.output}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="capsnet", choices=list(MODELS), help="which network to train")
    parser.add_argument("--data", help="MNIST .npz in Keras' format (default: $CAPSNET_MNIST or Keras' download)")
    parser.add_argument("--epochs", type=int, help="total epochs, counting resumed ones (default: the model's)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--lr-decay", type=float, default=0.9, help="learning rate factor per epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation-size", type=int, default=5000)
    parser.add_argument("--routing-iterations", type=int, default=ROUTING_ITERATIONS, help="CapsNets only")
    parser.add_argument("--conv-dtype", default=None, choices=["mixed_bfloat16", "mixed_float16"],
                        help="mixed precision for the two convolutions (weights stay float32)")
    parser.add_argument("--output", help="where the best weights go (default: checkpoints/<model>.weights.h5)")
    parser.add_argument("--backup-dir", help="per-epoch resumable state (default: runs/<model>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from --backup-dir, else from the weights at --output")
    args = parser.parse_args(argv)
    if args.validation_size < 1:
        parser.error("--validation-size must be at least 1: the best epoch is chosen on it")
    args.epochs = args.epochs or card(args.model).epochs
    args.output = args.output or str(card(args.model).checkpoint)
    args.backup_dir = args.backup_dir or f"runs/{args.model}"
    return args


def train(args: argparse.Namespace) -> dict:
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), test_set = load_mnist(args.data)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, args.validation_size, args.seed)
    learned = task(args.model)
    batches = learned.training_batches(x_fit, y_fit, args.batch_size, args.seed)
    steps_per_epoch = len(batches)
    backup = Path(args.backup_dir)
    if backup.exists() and not args.resume:
        shutil.rmtree(backup)  # a fresh run: never mix with a previous run's state
    state_path = backup / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}

    with distribution_scope():
        model = card(args.model).build(routing_iterations=args.routing_iterations, conv_dtype=args.conv_dtype)
        optimizer = keras.optimizers.Adam(
            learning_rate_schedule(args.learning_rate, args.lr_decay, steps_per_epoch))
        # TensorFlow: no XLA (25x slower on CPU). JAX compiles every step with XLA anyway.
        model.compile(optimizer=optimizer, jit_compile=keras.backend.backend() != "tensorflow")
        initial_epoch = 0
        if args.resume and not state_path.exists():
            initial_epoch, state = resume_from_export(model, optimizer, args.output, steps_per_epoch)
    record_schedule(state, args)
    print(f"{card(args.model).name}: {model.count_params():,} parameters; training on {len(x_fit)} images, "
          f"validating on {len(x_val)}", flush=True)
    model.fit(
        batches, validation_data=learned.evaluation_batches(x_val, y_val, args.batch_size),
        epochs=args.epochs, initial_epoch=initial_epoch, verbose=1,
        callbacks=[keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False),
                   ExportBest(args, test_set, steps_per_epoch, state)],
    )
    return read_metadata(args.output)


def record_schedule(state: dict, args: argparse.Namespace) -> None:
    """Note each learning-rate schedule with the epoch it starts from: a resumed run may change it."""
    schedule = state.setdefault("learning_rate_schedule", [])
    current = {"initial": args.learning_rate, "decay_per_epoch": args.lr_decay}
    if not schedule or {key: schedule[-1][key] for key in current} != current:
        schedule.append({"from_epoch": int(state.get("epochs", 0)) + 1, **current})


def distribution_scope():
    """The caller's tf.distribute strategy scope, if any (Keras' other backends need none)."""
    if keras.backend.backend() != "tensorflow":
        return contextlib.nullcontext()
    import tensorflow as tf
    return tf.distribute.get_strategy().scope()


def library_versions() -> dict:
    backend = keras.backend.backend()
    backend_module = __import__(backend)
    return {"keras_backend": backend, backend: backend_module.__version__,
            "keras": keras.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def resume_from_export(model: keras.Model, optimizer, output: str, steps_per_epoch: int):
    """Continue from committed weights: epoch count and learning rate from the metadata.

    The committed file has no optimizer state, so Adam's moments start afresh.
    """
    metadata = read_metadata(output)
    if not metadata:
        raise SystemExit(f"--resume: no backup and no exported checkpoint at {output}")
    model.load_weights(output)
    optimizer.build(model.trainable_variables)
    epochs = int(metadata["epochs"])
    optimizer.iterations.assign(epochs * steps_per_epoch)
    print(f"resuming from {output} after {epochs} epochs", flush=True)
    state = {"training_seconds": metadata.get("training_seconds", 0.0), "epochs": epochs,
             "best_validation_accuracy": metadata.get("validation_accuracy", -1.0)}
    rate = metadata.get("learning_rate")
    if rate:  # exports before the schedule was recorded had one schedule from epoch 1
        state["learning_rate_schedule"] = rate.get("schedule") or [
            {"from_epoch": 1, "initial": rate["initial"], "decay_per_epoch": rate["decay_per_epoch"]}]
    if "validation_loss" in metadata:  # older exports lack it; absent counts as +inf (strict JSON)
        state["best_validation_loss"] = metadata["validation_loss"]
    return epochs, state


def main(argv: list[str] | None = None) -> None:
    metadata = train(parse_args(argv))
    if metadata:
        print(f"best: epoch {metadata['epochs']}, test accuracy {metadata['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
