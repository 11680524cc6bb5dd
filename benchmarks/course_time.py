"""Wall time to execute each lesson top to bottom on a fresh kernel, and the whole course.

Three passes: the course in order with one empty compilation cache (a learner working
through it), the same again with the cache warm, and each lesson alone with an empty cache
of its own (a learner who opens that lesson first: the strictest case). This VM's speed
drifts by tens of percent over an hour, so the 2048-square matmul rate is measured before
each pass and stored beside it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from benchmarks.common import machine, save

REPO = Path(__file__).resolve().parents[1]


LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def execute(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    row = {"lesson": path.stem, "seconds": time.perf_counter() - start}
    print(f"{path.stem}: {row['seconds']:.1f} s", flush=True)
    return row


def matmul_gflops() -> float:
    """The machine's speed now, in a subprocess (this process never imports jax)."""
    out = subprocess.run([sys.executable, "-c", "from benchmarks.probe_speed import peak_matmul;"
                          "print(peak_matmul()['gflops'])"], cwd=REPO, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.split()[-1])


def run() -> dict:
    """The course in order with an empty compilation cache, then warm; then each lesson
    alone with an empty cache of its own."""
    result = {"machine": machine()}
    old = os.environ.get("GRADVIZ_CACHE_DIR")
    try:
        with tempfile.TemporaryDirectory() as cache:
            os.environ["GRADVIZ_CACHE_DIR"] = cache  # inherited by the kernels
            for label in ("cold_cache", "warm_cache"):
                gflops = matmul_gflops()
                rows = [execute(path) for path in LESSONS]
                result[label] = {"lessons": rows, "total_seconds": sum(r["seconds"] for r in rows),
                                 "matmul_gflops": gflops}
        gflops, rows = matmul_gflops(), []
        for path in LESSONS:
            with tempfile.TemporaryDirectory() as cache:
                os.environ["GRADVIZ_CACHE_DIR"] = cache
                rows.append(execute(path))
        result["alone_cold"] = {"lessons": rows, "matmul_gflops": gflops}
    finally:
        if old is None:
            os.environ.pop("GRADVIZ_CACHE_DIR", None)
        else:
            os.environ["GRADVIZ_CACHE_DIR"] = old
    return result


if __name__ == "__main__":
    sys.exit(print(save("course_time", run())))
