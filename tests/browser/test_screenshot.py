"""README screenshot: the lesson 01 explorer after a slider move, saved to docs/screenshot.png.

Reuses the page test_lessons.py left open for lesson 01 when there is one. Without a
lesson 01 (e.g. GRADVIZ_NOTEBOOK_DIR points at scratch notebooks) the first notebook with
an explorer is used and the image goes to tests/browser/artifacts/ instead of docs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

LESSON = "01_vanishing_vs_exploding.ipynb"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_screenshot_of_lesson_01_explorer(lessons):
    names = sorted(p.name for p in lessons.server.root.glob("*.ipynb"))
    if LESSON in names:
        name, target = LESSON, REPO / "docs" / "screenshot.png"
    else:
        name, target = None, ARTIFACTS / "screenshot.png"
        for candidate in names:
            if "Explorer(" in (lessons.server.root / candidate).read_text():
                name = candidate
                break
        if name is None:
            pytest.skip(f"no {LESSON} and no notebook with an explorer to photograph")

    lesson = lessons.kept(name)
    if lesson is None:
        lesson = lessons.run(name)
        lessons.keep(lesson)
    lesson.move_slider("gv-depth", presses=2)
    target.parent.mkdir(parents=True, exist_ok=True)
    explorer = lesson.page.locator(".gv-explorer").first
    explorer.scroll_into_view_if_needed()
    explorer.screenshot(path=str(target), animations="disabled")
    assert target.stat().st_size > 10_000, f"{target} looks empty"
