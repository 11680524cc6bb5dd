"""Execute the lessons in place so that their stored outputs are fresh.

Usage: python scripts/execute_notebooks.py [NOTEBOOK.ipynb ...]   (default: notebooks/*.ipynb)

Runs each notebook top to bottom on a fresh kernel with nbclient, then drops the
~5 MB of ipywidgets state (``nb.metadata["widgets"]``) before writing it back.
``store_widget_state=False`` is not used: it crashes when an Output widget
captures output (KeyError in nbclient's output_widget.py).

``GRADVIZ_BUILD_NOTEBOOKS=1`` tells gradviz that it is building the committed
copy: it then adds static previews (PNG, HTML) next to the live widgets, and this
script deletes the widget views themselves (see ``gradviz.preview``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"


def execute_notebook(path: Path) -> float:
    """Execute ``path`` in place; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        # kernel cwd = the notebook's folder (notebooks/ for the lessons), as under nbval
        resources={"metadata": {"path": str(path.resolve().parent)}},
    ).execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    strip_widget_views(nb)
    nbformat.write(nb, path)
    return elapsed


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_widget_views(nb) -> int:
    """Delete widget views from the outputs, leaving their static previews; return how many.

    A saved widget view cannot render without its kernel ("model not found"), and
    JupyterLab prefers it over the PNG next to it, so the committed copy keeps only the PNG
    (or HTML, or text) that gradviz put in the same bundle while building.
    """
    removed = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                del output["data"][WIDGET_VIEW]
                removed += 1
    return removed


def main(argv: list[str]) -> int:
    os.environ["GRADVIZ_BUILD_NOTEBOOKS"] = "1"  # inherited by every kernel started below
    paths = [Path(a) for a in argv] or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks found in {NOTEBOOK_DIR}", file=sys.stderr)
        return 1
    total = 0.0
    for path in paths:
        print(f"executing {path} ...", flush=True)
        elapsed = execute_notebook(path)
        total += elapsed
        print(f"  {elapsed:6.1f} s  {path}", flush=True)
    print(f"executed {len(paths)} notebook(s) in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
