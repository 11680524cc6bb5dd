"""Every explorer that every lesson creates: each control, across its whole range, compiles nothing.

The lessons are found on disk and run in-process, so an explorer that a new lesson adds is
swept automatically.
"""

import sys
from pathlib import Path

import pytest
from explorer_checks import assert_figure_shows_controls

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from lesson_exec import LESSONS, code_cells, explorers_of  # noqa: E402

from gradviz import widgets  # noqa: E402


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_control_of_every_explorer_compiles_nothing(lesson, count_compiles):
    found = explorers_of(lesson)
    if any("Explorer(" in src for src in code_cells(lesson)):
        assert found, f"{lesson.name} shows an explorer but none was created"
    for ex in found:
        controls = dict(ex.controls)
        if getattr(ex, "presets", None):
            controls["preset"] = ex.preset
        with count_compiles() as counter:
            for name, control in controls.items():
                for value in widgets.sweep_values(control):
                    control.value = value
                    assert ex.errors.outputs == (), (name, value, ex.errors.outputs)
        assert counter.count == 0, (lesson.name, counter.names)
        assert_figure_shows_controls(ex)  # the final control values, not a stale update
