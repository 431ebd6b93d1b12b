"""The studies' committed tables (results/: robustness, vote projections, dimension labels,
mistakes), served only while the hashes they record match the weights served."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import orjson
from flask import current_app

from app.errors import ApiError
from model.registry import PROJECT_ROOT
from studies import STUDIES


def shown_path(path: str | Path) -> str:
    """A file as an answer may name it: relative to the project, never the server's own folders."""
    path = Path(path).resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else path.name


def study_table(name: str) -> dict:
    """The table of study `name` (studies/__init__.py) in the app's RESULTS folder, verified."""
    study = STUDIES[name]
    return verified_table(Path(current_app.config["RESULTS"]) / study.output, study.command)


def verified_table(path: str | Path, command: str) -> dict:
    """The JSON table at `path` (a fresh copy for each caller), once every model it names
    (`"models": {id: {"sha256"}}`) has the sha256 of the model served; else a 503 saying which
    command re-makes it."""
    try:
        table = orjson.loads(_read(str(path), Path(path).stat().st_mtime_ns))
    except (OSError, ValueError) as error:
        raise ApiError(f"No table at {shown_path(path)} ({error.__class__.__name__}); run `{command}`.", 503) from error
    services = current_app.extensions["models"]
    for model_id, entry in table.get("models", {}).items():
        served = services[model_id].sha256 if model_id in services else None
        if entry.get("sha256") != served:
            raise ApiError(f"{shown_path(path)} was measured on other {model_id} weights (sha256 "
                           f"{entry.get('sha256')}, served {served}); re-run `{command}`.", 503)
    return table


@lru_cache(maxsize=16)
def _read(path: str, modified_ns: int) -> bytes:
    """Read once per file version; parsed per call (orjson: under a millisecond for the largest),
    so that no caller can change what the next one gets. A re-run of the command changes the
    modification time, so it is read again."""
    del modified_ns  # part of the cache key only
    return Path(path).read_bytes()
