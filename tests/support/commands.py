"""The project's commands run as a user runs them: `python -m ...` in a fresh process."""
from __future__ import annotations

import os
import subprocess
import sys

from datasets.mnist import MNIST_ENV
from support.digits import PROJECT_ROOT


def run_module(*args: str) -> str:
    return run_module_args([sys.executable, "-m", *args])


def run_module_code(code: str, *args: str) -> str:
    return run_module_args([sys.executable, "-c", code, *args])


def run_module_args(command: list[str]) -> str:
    """stdout of `command`, run from the project with one TensorFlow thread and no $CAPSNET_MNIST."""
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop(MNIST_ENV, None)
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command[2:]}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout
