"""Run a lesson's code cells in this process, and find the explorers it created.

Shared by the tests (zero compiles on every control of every lesson's explorers) and the
benchmarks (kernel-side slider latency). Cells run in order in one namespace, their
printed output discarded, exactly as a kernel would run them minus the display.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_cells(path: Path) -> list[str]:
    cells = json.loads(Path(path).read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def run_lesson(path: Path) -> dict:
    """Execute every code cell of ``path`` in a scratch working directory (files a lesson
    writes, such as lesson 12's exported infographic, stay out of the repository); return
    the namespace."""
    namespace: dict = {"__name__": "__lesson__"}
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        for i, source in enumerate(code_cells(path)):
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"{Path(path).name}[cell {i}]", "exec"), namespace)  # noqa: S102
    return namespace


def explorers_of(path: Path) -> list:
    """The explorers that running ``path`` creates, in creation order."""
    from gradviz import widgets

    before = set(map(id, widgets.live_explorers()))
    namespace = run_lesson(path)
    found = [e for e in widgets.live_explorers() if id(e) not in before]
    namespace.clear()  # the explorers stay alive through `found`
    return sorted(found, key=lambda e: e.created)
