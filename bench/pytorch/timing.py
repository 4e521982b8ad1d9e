"""Timing for the PyTorch benchmarks (no torch import, so it can be tested on its own: test/project/bench-timing.test.ts).

A process's first calls into PyTorch are slow for a while (oneDNN primitive creation, the thread pool
spinning up, the allocator growing its caches, the CPU clocking up), and how long "a while" lasts
depends on the machine: a fixed count of warm-up calls once left the first figure measured, the
coupling forward pass, slower (22.6 ms) than the forward + backward measured after it (13.9 ms).
So warm-up runs until the time per call has settled, not for a fixed count.
"""
import statistics
import time


def warm_up(fn, min_runs, before=None, clock=time.perf_counter, window=3, tolerance=0.1, min_seconds=1.0,
            max_seconds=10.0, max_runs=10000):
    """Untimed calls of fn until its time per call has settled. Settled means: at least min_runs calls
    (and 2 * window), at least min_seconds spent, and the median of the last `window` calls within
    `tolerance` (relative) both of the median of the `window` calls before them and of the fastest call
    so far. Gives up after max_seconds or max_runs calls. Returns the number of calls made."""
    times = []
    spent = 0.0
    while len(times) < max_runs and spent < max_seconds:
        if before is not None:
            before()
        t0 = clock()
        fn()
        times.append(clock() - t0)
        spent += times[-1]
        if len(times) >= max(min_runs, 2 * window) and spent >= min_seconds:
            last = statistics.median(times[-window:])
            previous = statistics.median(times[-2 * window:-window])
            if abs(last - previous) <= tolerance * previous and last <= (1 + tolerance) * min(times):
                break
    return len(times)


def timed(fn, warmup, reps, before=None, clock=time.perf_counter):
    """Warm-up (see warm_up), then reps timed calls; the median and every sample in milliseconds."""
    runs = warm_up(fn, warmup, before, clock)
    samples = []
    for _ in range(reps):
        if before is not None:
            before()
        t0 = clock()
        fn()
        samples.append((clock() - t0) * 1000)
    return {"median_ms": statistics.median(samples), "samples_ms": samples, "warmup_runs": runs}
