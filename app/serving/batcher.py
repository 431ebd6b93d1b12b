"""Concurrent requests of one worker share one forward pass.

`Batcher(function, sizes)` runs `function(*arrays)` (arrays with a common leading batch axis,
returning a dict of arrays or one array with that axis) on a thread of its own. Callers
`batcher(*arrays)` from any number of request threads; the thread takes every waiting call
(up to the largest size), pads the rows to the next of a few fixed sizes (traced and warmed at
start-up, so no request pays for a new shape), runs the function once and hands each caller
its own rows.

A full queue refuses: with `max_waiting` calls already queued, the next raises app/http/admission.py's
Busy (a 429) at once rather than waiting behind them.

When to run: a lone request never waits. Only while requests are arriving together (the last
batch held more than one call, or calls queued up while it ran) does the thread wait for more
to join, since the next one is then likely on its way: up to `window_s` in all, and no longer
than `gap_s` after the last arrival (a worker's few request threads have all arrived by then).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.errors import Busy

Output = dict[str, np.ndarray] | np.ndarray


@dataclass
class _Call:
    arrays: tuple[np.ndarray, ...]
    rows: int
    done: threading.Event = field(default_factory=threading.Event)
    result: Output | None = None
    error: BaseException | None = None


def _pad(array: np.ndarray, rows: int) -> np.ndarray:
    """Pad the batch axis to `rows` by repeating the last row (any valid input would do)."""
    extra = rows - len(array)
    return array if extra == 0 else np.concatenate([array, np.repeat(array[-1:], extra, axis=0)])


def _rows(output: Output, start: int, stop: int, copy: bool) -> Output:
    """A caller's rows; copied when the batch held more (others' rows, padding), so that a
    cached answer does not keep the whole batch's arrays alive."""
    if isinstance(output, dict):
        return {key: _rows(value, start, stop, copy) for key, value in output.items()}
    return output[start:stop].copy() if copy else output[start:stop]


class Batcher:
    """One forward pass for the calls that arrive together; see the module's docstring."""

    def __init__(self, function: Callable[..., Output], sizes: Sequence[int], window_s: float = 0.002,
                 gap_s: float = 0.0005, name: str = "batcher", max_waiting: int = 64):
        self.function = function
        self.sizes = tuple(sorted(set(sizes)))
        self.max_waiting = max_waiting
        self.window_s = window_s
        self.gap_s = gap_s
        self.passes = 0  # forward passes run
        self.calls = 0  # calls served (passes < calls once batches form)
        self.largest = 0  # most calls in one pass, for the benchmarks
        self._queue: deque[_Call] = deque()
        self._condition = threading.Condition()
        self._busy = False  # calls arrived together recently: worth waiting for more
        self.name = name
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def padded_size(self, rows: int) -> int:
        """The fixed size a batch of `rows` rows runs at (larger than every size: as is)."""
        return next((size for size in self.sizes if size >= rows), rows)

    def warm_up(self, *example: np.ndarray) -> None:
        """Run every fixed size once (from one example row), so that no request traces or
        creates kernels for a new shape."""
        for size in self.sizes:
            self.function(*(_pad(array[:1], size) for array in example))

    def __call__(self, *arrays: np.ndarray) -> Output:
        """`function(*arrays)`, possibly computed together with other callers' rows."""
        call = _Call(tuple(np.asarray(a) for a in arrays), len(arrays[0]))
        with self._condition:
            if len(self._queue) >= self.max_waiting:
                raise Busy(f"{len(self._queue)} requests are waiting for {self.name}")
            self._queue.append(call)
            self._condition.notify()
        call.done.wait()
        if call.error is not None:
            raise call.error
        return call.result

    def _take(self) -> list[_Call]:
        """Wait for calls; gather those that fit in the largest size (at least one)."""
        with self._condition:
            while not self._queue:
                self._condition.wait()
            if self._busy and self.window_s > 0:
                deadline = time.monotonic() + self.window_s
                while sum(c.rows for c in self._queue) < self.sizes[-1]:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._condition.wait(min(left, self.gap_s)):
                        break  # the window is over, or nobody came within the gap
            calls = [self._queue.popleft()]
            rows = calls[0].rows
            while self._queue and rows + self._queue[0].rows <= self.sizes[-1]:
                rows += self._queue[0].rows
                calls.append(self._queue.popleft())
            return calls

    def _serve(self) -> None:
        while True:
            calls = self._take()
            try:
                rows = sum(c.rows for c in calls)
                size = self.padded_size(rows)
                inputs = [_pad(np.concatenate([c.arrays[i] for c in calls]), size)
                          for i in range(len(calls[0].arrays))]
                output = self.function(*inputs)
                start = 0
                for call in calls:
                    call.result = _rows(output, start, start + call.rows, copy=size > call.rows)
                    start += call.rows
            except BaseException as error:  # every caller hears of it; the thread keeps serving
                for call in calls:
                    call.error = error
            self.passes += 1
            self.calls += len(calls)
            self.largest = max(self.largest, len(calls))
            with self._condition:
                self._busy = len(calls) > 1 or bool(self._queue)
            for call in calls:
                call.done.set()
