"""Admission: a worker says 429 at once when its own queue is full, instead of letting requests
pile up behind work it cannot finish in time (a proxy's per-client rate limit comes first: deploy/).

`Gate(slots, waiting)` lets `slots` costly requests (app/http/endpoints.py's `costly`) run at once and
`waiting` more wait for a slot; one more is refused. The batcher (app/serving/batcher.py) refuses a call
in the same way when its queue already holds a full batch several times over.
"""
from __future__ import annotations

import functools
import threading
from contextlib import contextmanager

from flask import current_app

from app.errors import Busy


class Gate:
    def __init__(self, slots: int, waiting: int):
        if slots < 1 or waiting < 0:
            raise ValueError(f"a gate needs at least one slot and no negative queue, got {slots}, {waiting}.")
        self.slots, self.waiting = slots, waiting
        self._running = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self.inside = 0  # running or waiting

    @contextmanager
    def admit(self, what: str = "costly requests"):
        with self._lock:
            if self.inside >= self.slots + self.waiting:
                raise Busy(f"{self.inside} {what} are running or waiting in this worker")
            self.inside += 1
        try:
            with self._running:
                yield
        finally:
            with self._lock:
                self.inside -= 1


def gated(view):
    """`view` admitted through the app's gate (create_app attaches it as extensions["gate"])."""
    @functools.wraps(view)
    def admitted(*args, **kwargs):
        with current_app.extensions["gate"].admit():
            return view(*args, **kwargs)
    return admitted
