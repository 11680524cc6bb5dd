"""Kernel-side slider latency: from a control's value being set to the figure's data updated.

Every lesson is run in-process (``scripts/lesson_exec.py``); every control of every explorer
it creates is moved across its range several times, and each move is timed from the
``control.value = ...`` assignment to the return of the callback, which has re-measured the
network and written the new data into the FigureWidget (the comm message to the browser is
queued by then). Also times the first display of an explorer in a fresh process, with an
empty and with a warm persistent compilation cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, percentile_ms, save

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

FIRST_DISPLAY = """
import time
t0 = time.perf_counter()
import gradviz as gv
t1 = time.perf_counter()
ex = gv.GradientExplorer()
t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f}")
"""


def first_display(cache_dir: str) -> dict:
    env = dict(os.environ, GRADVIZ_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", FIRST_DISPLAY], env=env, capture_output=True,
                         text=True, check=True, cwd=REPO).stdout.split()
    return {"import_s": float(out[0]), "first_display_s": float(out[1])}


def sweep(explorer, rounds: int = 3) -> dict:
    from gradviz import widgets

    controls = dict(explorer.controls)
    if getattr(explorer, "presets", None):
        controls["preset"] = explorer.preset
    times: dict = {}
    for _ in range(rounds):
        for name, control in controls.items():
            for value in widgets.sweep_values(control):
                if control.value == value:
                    continue
                t = time.perf_counter()
                control.value = value
                times.setdefault(name, []).append(time.perf_counter() - t)
    return times


def run() -> dict:
    from lesson_exec import LESSONS, explorers_of

    with tempfile.TemporaryDirectory() as cache:
        cold = first_display(cache)
        warm = first_display(cache)
    lessons = []
    for path in LESSONS:
        for i, ex in enumerate(explorers_of(path)):
            times = sweep(ex)
            every = [t for ts in times.values() for t in ts]
            lessons.append({
                "lesson": path.stem, "explorer": i, "kind": type(ex).__name__,
                "width": getattr(ex, "width", getattr(ex, "hidden", None)),
                "controls": {name: {"n": len(ts), "p50_ms": percentile_ms(ts, 50),
                                    "p95_ms": percentile_ms(ts, 95)} for name, ts in times.items()},
                "all": {"n": len(every), "p50_ms": percentile_ms(every, 50),
                        "p95_ms": percentile_ms(every, 95), "max_ms": 1e3 * max(every)}})
            print(f"{path.stem} explorer {i}: p50 {lessons[-1]['all']['p50_ms']:.1f} ms, "
                  f"p95 {lessons[-1]['all']['p95_ms']:.1f} ms", flush=True)
    return {"machine": machine(), "first_display": {"cold_cache": cold, "warm_cache": warm},
            "explorers": lessons}


if __name__ == "__main__":
    print(save("slider_latency", run()))
