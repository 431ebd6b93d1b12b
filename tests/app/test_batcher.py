"""app/serving/batcher.py: concurrent callers share one pass, and each gets its own rows back."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from app.serving.batcher import Batcher
from support.digits import gallery_digit


def slow_double(seen: list[int], delay: float = 0.02):
    """x -> {"twice": 2x, "row": the row's index in its batch}, slow enough for calls to queue."""
    def function(x: np.ndarray) -> dict[str, np.ndarray]:
        seen.append(len(x))
        time.sleep(delay)
        return {"twice": 2 * x, "row": np.arange(len(x))}
    return function


def test_a_lone_call_gets_its_own_rows_at_the_smallest_size():
    seen: list[int] = []
    batcher = Batcher(slow_double(seen, 0), sizes=(1, 4))
    out = batcher(np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(out["twice"], [[2.0, 4.0]])
    assert seen == [1] and batcher.passes == 1


def test_concurrent_calls_share_passes_and_each_gets_its_own_answer():
    seen: list[int] = []
    batcher = Batcher(slow_double(seen), sizes=(1, 2, 4, 8))
    inputs = [np.full((1, 3), float(i)) for i in range(40)]
    with ThreadPoolExecutor(16) as pool:
        outputs = list(pool.map(lambda x: batcher(x), inputs))
    for x, out in zip(inputs, outputs):
        np.testing.assert_array_equal(out["twice"], 2 * x)
    assert batcher.calls == 40
    assert batcher.passes < 40 and batcher.largest > 1  # batches formed
    assert set(seen) <= {1, 2, 4, 8}  # always padded to a fixed size


def test_calls_of_several_rows_stay_together_and_big_ones_run_alone():
    seen: list[int] = []
    batcher = Batcher(slow_double(seen), sizes=(1, 4, 16))
    sizes = [3, 1, 5, 2, 20, 7]  # 20 is over the largest size: run on its own, unpadded
    inputs = [np.arange(n, dtype=float)[:, None] + 100 * i for i, n in enumerate(sizes)]
    with ThreadPoolExecutor(len(sizes)) as pool:
        outputs = list(pool.map(lambda x: batcher(x), inputs))
    for x, out in zip(inputs, outputs):
        np.testing.assert_array_equal(out["twice"], 2 * x)
        assert len(out["row"]) == len(x)
    assert 20 in seen and set(seen) - {20} <= {1, 4, 16}


def test_a_failing_pass_raises_in_every_caller_and_the_batcher_keeps_serving():
    fail = threading.Event()
    fail.set()

    def function(x):
        time.sleep(0.01)
        if fail.is_set():
            raise ValueError("boom")
        return x + 1

    batcher = Batcher(function, sizes=(1, 8))
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(batcher, np.zeros((1, 1))) for _ in range(4)]
        for future in futures:
            with pytest.raises(ValueError, match="boom"):
                future.result()
    fail.clear()
    np.testing.assert_array_equal(batcher(np.zeros((1, 1))), [[1.0]])


def test_shared_rows_are_copies_not_views_of_the_batch():
    batcher = Batcher(slow_double([]), sizes=(1, 8))
    with ThreadPoolExecutor(8) as pool:
        outputs = list(pool.map(lambda i: batcher(np.full((1, 2), float(i))), range(8)))
    assert batcher.largest > 1
    # a cached analysis must not keep the whole (padded) batch alive
    assert all(out["twice"].base is None or out["twice"].base.size == out["twice"].size for out in outputs)


def test_concurrent_analyses_match_one_at_a_time(app):
    """Distinct digits analysed at once through the service's batcher: each gets its own
    analysis, equal to the same digit analysed alone (the cache bypassed)."""
    service = app.extensions["models"]["capsnet"]
    digits = [gallery_digit(label, index).astype(np.float32) / 255 for label in range(10) for index in (0, 1)]
    alone = [service.analyze(d, use_cache=False) for d in digits]
    batcher = service._analysis_batcher("analysis", (), service.default_iterations)
    passes_before, calls_before = batcher.passes, batcher.calls
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda d: service.analyze(d, use_cache=False), digits))
    assert batcher.calls - calls_before == len(digits)
    assert batcher.passes - passes_before < len(digits)  # some shared a pass
    for label, (a, b) in enumerate(zip(alone, together)):
        assert int(b["prediction"]) == int(a["prediction"]) == label // 2
        for key in ("lengths", "digit_caps", "reconstruction", "conv1", "routing_coupling"):
            np.testing.assert_allclose(b[key], a[key], atol=2e-5, err_msg=key)


def test_cache_hits_never_wait_for_a_pass(app):
    service = app.extensions["models"]["capsnet"]
    digit = gallery_digit(4, 2).astype(np.float32) / 255
    service.analyze(digit)
    before = service.forward_passes
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: service.analyze(digit), range(16)))
    assert service.forward_passes == before
    assert all(a is answers[0] for a in answers)


def test_concurrent_decodes_and_sweeps_get_their_own_images(app):
    service = app.extensions["models"]["capsnet"]
    rng = np.random.default_rng(1)
    jobs = [(int(rng.integers(10)), rng.uniform(-0.3, 0.3, 16).astype(np.float32)) for _ in range(12)]
    alone = [service.reconstruct(d, v) for d, v in jobs]
    sweeps_alone = [service.sweep(d, v) for d, v in jobs[:3]]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda job: service.reconstruct(*job), jobs))
        sweeps = list(pool.map(lambda job: service.sweep(*job), jobs[:3]))
    for a, b in zip(alone, together):
        np.testing.assert_allclose(b, a, atol=1e-5)
    for a, b in zip(sweeps_alone, sweeps):
        np.testing.assert_allclose(b, a, atol=1e-5)


def test_a_full_queue_answers_busy_at_once_and_the_calls_already_queued_are_served():
    from app.errors import Busy
    running, release = threading.Event(), threading.Event()

    def blocked(x: np.ndarray) -> np.ndarray:
        running.set()
        release.wait(10)
        return 2 * x
    batcher = Batcher(blocked, sizes=(1,), max_waiting=3)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher, np.ones((1, 1)))  # taken by the batcher's thread: running
        assert running.wait(10)
        queued = [pool.submit(batcher, np.full((1, 1), float(i))) for i in range(3)]
        deadline = time.monotonic() + 10
        while len(batcher._queue) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        started = time.monotonic()
        with pytest.raises(Busy) as refused:
            batcher(np.zeros((1, 1)))
        assert time.monotonic() - started < 0.5  # refused, not queued
        assert refused.value.status == 429 and "3 requests are waiting" in refused.value.message
        release.set()
        assert first.result(10)[0, 0] == 2
        assert [call.result(10)[0, 0] for call in queued] == [0, 2, 4]
