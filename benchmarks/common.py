"""Timing helpers shared by the benchmarks: medians over repeated warm calls."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def time_calls(fn, *, min_calls: int = 7, min_seconds: float = 1.0, warmup: int = 2) -> list:
    """Wall times (seconds) of repeated calls of ``fn()``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= 200:
            break
    return times


def compare(fns: dict, *, rounds: int = 15, min_seconds: float = 1.5, warmup: int = 2) -> dict:
    """Interleaved timing: each round calls every function once, in turn.

    On a shared 2-core VM the speed drifts by tens of percent over seconds; interleaving
    makes every candidate see the same drift, so the ratios between them hold.
    Returns ``{name: [seconds, ...]}``.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    start = time.perf_counter()
    while min(len(t) for t in times.values()) < rounds or time.perf_counter() - start < min_seconds:
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
        if len(times[next(iter(times))]) >= 200:
            break
    return times


def median_ms(times) -> float:
    return 1e3 * statistics.median(times)


def percentile_ms(times, q: float) -> float:
    ordered = sorted(times)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return 1e3 * ordered[k]


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=float))
    return path
