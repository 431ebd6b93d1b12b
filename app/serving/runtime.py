"""The Keras backend the server runs on, checked before any model loads.

The server needs Keras' TensorFlow backend: app/serving/service.py traces the model with tf.function.
Keras takes its backend from KERAS_BACKEND, else from keras.json in KERAS_HOME (~/.keras, or
/tmp/.keras when the home folder is read-only). Training and evaluation run on any backend;
only serving is tied to TensorFlow, so a server started with KERAS_BACKEND=jax (left over from
a training shell, say) stops at once with what to do, not with a traceback from deep in Keras.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping

SUPPORTED_BACKENDS = ("tensorflow",)


class BackendError(RuntimeError):
    """Keras is set to a backend the server cannot run on."""


def configured_backend(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(backend, where it is set), by Keras' own rules, without importing Keras."""
    environ = os.environ if environ is None else environ
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"], "KERAS_BACKEND"
    home = environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    path = os.path.join(home, "keras.json")
    try:
        with open(path) as file:
            backend = json.load(file).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    return (backend, path) if backend else ("tensorflow", "Keras' default")


def check_backend(environ: Mapping[str, str] | None = None) -> str:
    """The backend, or a BackendError saying how to fix it. Once Keras is imported (and only
    when no `environ` is given), what it actually runs on decides."""
    backend, source = configured_backend(environ)
    if environ is None and "keras" in sys.modules:
        backend, source = sys.modules["keras"].backend.backend(), "the Keras already loaded"
    if backend not in SUPPORTED_BACKENDS:
        raise BackendError(
            f"The server needs Keras' TensorFlow backend (app/serving/service.py traces the model with "
            f"tf.function), but {source} selects {backend!r}. Start it with KERAS_BACKEND=tensorflow "
            f"(or unset KERAS_BACKEND and leave keras.json's \"backend\" at \"tensorflow\"). "
            f"Training and evaluation run on any backend; serving needs TensorFlow.")
    return backend
