"""Wall time to execute each lesson top to bottom on a fresh kernel, and the whole course."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from benchmarks.common import machine, save

REPO = Path(__file__).resolve().parents[1]


def execute_all() -> list:
    rows = []
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        rows.append({"lesson": path.stem, "seconds": time.perf_counter() - start})
        print(f"{path.stem}: {rows[-1]['seconds']:.1f} s", flush=True)
    return rows


def run() -> dict:
    """Twice: with an empty compilation cache (a learner's first run), then warm."""
    result = {"machine": machine()}
    old = os.environ.get("GRADVIZ_CACHE_DIR")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GRADVIZ_CACHE_DIR"] = cache  # inherited by the kernels
        try:
            for label in ("cold_cache", "warm_cache"):
                rows = execute_all()
                result[label] = {"lessons": rows, "total_seconds": sum(r["seconds"] for r in rows)}
        finally:
            if old is None:
                os.environ.pop("GRADVIZ_CACHE_DIR")
            else:
                os.environ["GRADVIZ_CACHE_DIR"] = old
    return result


if __name__ == "__main__":
    sys.exit(print(save("course_time", run())))
