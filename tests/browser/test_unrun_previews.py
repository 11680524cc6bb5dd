"""A committed lesson opened *without running it* shows static previews, never a broken widget.

The lessons are committed with a PNG of every explorer in place of its widget view (see
``gradviz.preview``); a learner who opens a lesson before running it must see those
pictures, and no "Error displaying widget: model not found".
"""

from __future__ import annotations

import shutil

from lab import Lesson, notebook_dir

PLOTLY = "application/vnd.plotly.v1+json"
IMAGES_RENDERED = """(n) => {
  const imgs = [...document.querySelectorAll('.jp-OutputArea-output img')];
  return imgs.length >= n && imgs.every((i) => i.complete && i.naturalWidth > 100);
}"""


def _stored_previews(source: dict) -> int:
    """Outputs that Lab will draw as a PNG: a PNG with no plotly JSON beside it."""
    return sum(1 for cell in source["cells"] if cell["cell_type"] == "code"
               for out in cell.get("outputs", [])
               if "image/png" in out.get("data", {}) and PLOTLY not in out.get("data", {}))


def test_unrun_lesson_shows_previews(lessons, lesson_name):
    # A pristine copy: the server's own copy may already hold a run (and autosaved) lesson.
    unrun = lessons.server.root / "unrun"
    unrun.mkdir(exist_ok=True)
    shutil.copyfile(notebook_dir() / lesson_name, unrun / lesson_name)
    lesson = Lesson(lessons, f"unrun/{lesson_name}")
    try:
        expected = _stored_previews(lesson.source)
        if lesson.expects_explorer:
            assert expected >= 1, f"{lesson_name}: no stored preview for its explorers"
        lesson.page.goto(lesson.url, wait_until="domcontentloaded")
        lesson.wait("ready", lesson.name, 120, "the notebook to open")
        lesson.page.wait_for_function(IMAGES_RENDERED, arg=expected, timeout=60_000, polling=200)
        text = lesson.page.evaluate("() => document.body.innerText")
        for bad in ("model not found", "Error displaying widget"):
            assert bad not in text, f"{lesson_name} shows {bad!r} before it is run"
    finally:
        lesson.close()
