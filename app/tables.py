"""Tables computed by a command from the committed checkpoints (robustness, vote projections,
dimension labels, mistakes): served only while their recorded hashes match the served weights."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import current_app

from app.errors import ApiError


def verified_table(path: str | Path, command: str) -> dict:
    """The JSON table at `path`, once every model it names (`"models": {id: {"sha256"}}` or
    `"model": {"sha256"}` for the CapsNet alone) has the sha256 of the model served; else a 503
    saying which command re-makes it."""
    try:
        table = _read(str(path), Path(path).stat().st_mtime_ns)
    except (OSError, ValueError) as error:
        raise ApiError(f"No table at {path} ({error.__class__.__name__}); run `{command}`.", 503)
    services = current_app.extensions["models"]
    recorded = table.get("models") or {"capsnet": table.get("model", {})}
    for model_id, entry in recorded.items():
        served = services[model_id].sha256 if model_id in services else None
        if entry.get("sha256") != served:
            raise ApiError(f"{Path(path).name} was measured on other {model_id} weights (sha256 "
                           f"{entry.get('sha256')}, served {served}); re-run `{command}`.", 503)
    return table


@lru_cache(maxsize=16)
def _read(path: str, modified_ns: int) -> dict:
    """Parsed once per file version (every /api/votes request reads its projection table);
    a re-run of the command changes the modification time, so it is read again."""
    del modified_ns  # part of the cache key only
    return json.loads(Path(path).read_text())
