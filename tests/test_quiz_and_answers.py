"""Quiz feedback never leaks the explanation."""

import pytest

from gradviz import exercises

EXPLANATION = "The factors multiply: 0.25^29 = 3.5e-18. So option B is right."


def _quiz(**kwargs):
    return exercises.Quiz("How small?", ["A", "B", "C"], 1, EXPLANATION, **kwargs)


def test_wrong_answer_without_hint_is_neutral_and_quotes_nothing():
    q = _quiz()
    q.choice.value = "A"
    assert q.feedback.value == f"{exercises.WRONG} {exercises.NO_HINT}"
    assert "0." not in q.feedback.value and "factors" not in q.feedback.value
    assert q.hint is None


def test_wrong_answer_shows_the_hint_right_answer_the_explanation():
    q = _quiz(hint="Multiply the largest slope over 29 layers.")
    q.choice.value = "C"
    assert q.feedback.value.startswith(exercises.WRONG)
    assert "Multiply the largest slope over 29 layers." in q.feedback.value
    assert "option B" not in q.feedback.value and "3.5e-18" not in q.feedback.value
    q.choice.value = "B"
    assert q.feedback.value == f"{exercises.RIGHT} Right. {EXPLANATION}"


def test_quiz_positional_form_still_works():
    q = exercises.Quiz("2+2?", ["3", "4"], 1, "Four.")
    assert q.grade("4").startswith(exercises.RIGHT) and q.grade(None) == ""


@pytest.mark.parametrize("hint", ["", "   ", 3, ["a hint"]])
def test_bad_hint_raises_naming_it(hint):
    with pytest.raises(ValueError, match="hint="):
        _quiz(hint=hint)
