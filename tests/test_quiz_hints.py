"""Every quiz in every lesson carries a hint of its own that points the way without giving it.

Each quiz cell of the committed lessons is run here (with ``gv`` and ``np`` imported, as in the
lessons) to get the Quiz object back; its wrong-answer feedback must be the hint, and the hint
must not quote the right option or the explanation.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

import gradviz as gv

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def quiz_cells():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and "exercises.Quiz(" in cell.source:
                yield pytest.param(cell.source, id=f"{path.stem[:2]}-c{i}")


def build(source: str) -> gv.exercises.Quiz:
    body = "\n".join(line for line in source.splitlines() if not line.startswith("#"))
    return eval(body.strip(), {"gv": gv, "np": np})  # noqa: S307  (our own lesson cells)


def test_the_lessons_have_quizzes():
    assert len(list(quiz_cells())) >= 20


@pytest.mark.parametrize("source", list(quiz_cells()))
def test_every_quiz_has_its_own_hint(source):
    quiz = build(source)
    assert quiz.hint, f"no hint= in the quiz {quiz.question!r}"
    right = quiz.options[quiz.answer]
    wrong = next(o for i, o in enumerate(quiz.options) if i != quiz.answer)
    assert quiz.hint in quiz.grade(wrong) and quiz.explanation not in quiz.grade(wrong)
    assert quiz.explanation in quiz.grade(right)
    # the hint does not name the right option, nor repeat the explanation
    assert right.lower() not in quiz.hint.lower(), (quiz.hint, right)
    assert quiz.hint.strip() != quiz.explanation.strip()

