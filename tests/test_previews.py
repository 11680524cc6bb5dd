"""The committed lessons carry static previews in place of widget views (see gradviz.preview)."""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from execute_notebooks import WIDGET_VIEW, strip_widget_views  # noqa: E402
from lesson_exec import LESSONS  # noqa: E402

PLOTLY = "application/vnd.plotly.v1+json"


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_committed_lesson_has_previews_and_no_widget_views(lesson):
    for cell in _code_cells(lesson):
        source = "".join(cell["source"])
        data = [out.get("data", {}) for out in cell.get("outputs", [])]
        assert not any(WIDGET_VIEW in d for d in data), f"widget view left in: {source[:80]}"
        if "Explorer(" in source:
            assert sum("image/png" in d for d in data) == 1, f"no PNG preview: {source[:80]}"
        if "Quiz(" in source:
            assert any("text/html" in d for d in data), f"no static quiz: {source[:80]}"
        for d in data:
            if PLOTLY in d:  # GitHub and nbconvert show only the PNG
                assert "image/png" in d, f"plotly figure without PNG: {source[:80]}"


def test_strip_widget_views_keeps_everything_else():
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "execute_result",
         "data": {WIDGET_VIEW: {"model_id": "x"}, "image/png": "iVBOR", "text/plain": "E"}}]},
        {"cell_type": "markdown", "source": "hi"}]}
    assert strip_widget_views(nb) == 1
    assert nb["cells"][0]["outputs"][0]["data"] == {"image/png": "iVBOR", "text/plain": "E"}
