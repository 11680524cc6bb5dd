"""Every answer checker is called by a lesson test with a right, a wrong and a bad answer.

The per-lesson files tests/test_checkers_*.py (and test_infographic.py for lesson 12) call each
checker with a right answer reachable through the lesson's own controls, the solution's own
answer, a wrong one and bad input. This test makes sure no checker is left out of them.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from gradviz import exercises

TESTS = Path(__file__).resolve().parent


def test_every_checker_is_tested_by_its_lesson():
    checkers = [name for name, f in inspect.getmembers(exercises, inspect.isfunction)
                if name.startswith("check_") and f.__module__ == exercises.__name__]
    assert len(checkers) >= 15
    sources = "\n".join(p.read_text(encoding="utf-8")
                        for p in [*TESTS.glob("test_checkers_*.py"), TESTS / "test_infographic.py"])
    missing = [name for name in checkers if f"{name}(" not in sources]
    assert not missing, f"checkers no lesson test calls: {missing}"
