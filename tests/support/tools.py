"""Tests that need a tool of the machine (Chromium, nginx, wrk, axe-core): skipped where it is
missing, but failed under CI (CI=true), where a silently skipped test would pass a broken build."""
from __future__ import annotations

import os
import shutil

import pytest


def tool_missing(reason: str, install: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; this test must run under CI: {install}", pytrace=False)
    pytest.skip(f"{reason} ({install})")


def program(name: str, *fallbacks: str, install: str) -> str:
    """The path of program `name` (on PATH, else the first of `fallbacks` that exists)."""
    found = shutil.which(name) or next((path for path in fallbacks if os.path.exists(path)), None)
    if found is None:
        tool_missing(f"{name} is not installed", install)
    return found
