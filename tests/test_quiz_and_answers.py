"""Quiz feedback never leaks the explanation; checkers read any real scalar, JAX included."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import gradviz as gv
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


@pytest.mark.parametrize("value,expected", [
    (jnp.float32(0.025), np.float32(0.025)),
    (jnp.asarray(0.5), 0.5),
    (jnp.asarray(3, dtype=jnp.int32), 3.0),
    (np.float64(0.125), 0.125),
    (np.float32(0.025), np.float32(0.025)),
    (np.asarray(2.5), 2.5),
    (np.int64(7), 7.0),
    (4, 4.0),
    (1e-3, 1e-3),
])
def test_number_accepts_any_real_scalar(value, expected, capsys):
    out = exercises._number("answer", value)
    assert type(out) is float and out == float(expected)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("value,why", [
    (True, "is a bool"), (np.bool_(False), "is a bool"), (jnp.asarray(True), "dtype bool"),
    ("0.5", "is a str"), (1 + 0j, "dtype complex"), (np.complex64(1), "dtype complex"),
    (math.nan, "not finite"), (math.inf, "not finite"), (jnp.float32(jnp.inf), "not finite"),
    (np.asarray([0.5, 0.6]), "shape (2,)"), (jnp.ones((1,)), "shape (1,)"),
    ([0.5], "shape (1,)"), (object(), "dtype object"),
])
def test_number_rejects_with_one_line_naming_argument_and_value(value, why, capsys):
    assert exercises._number("factor", value) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(f"{exercises.WRONG} factor=")
    assert repr(value) in out and why in out


def test_a_checker_passes_a_jax_scalar_answer():
    """check_chain_factor: a depth-30 chain of scalar weights +-f gives f**29 = 1e-3."""
    f = 1e-3 ** (1 / 29)
    assert exercises.check_chain_factor(jnp.float32(f)) is True
    assert exercises.check_chain_factor(jnp.asarray(f)) is True
    assert exercises.check_chain_factor(np.float64(f)) is True
    assert exercises.check_chain_factor(jnp.float32(0.9)) is False


def test_warmup_checker_reads_integer_arrays_and_rejects_fractions(capsys):
    # out of range (the run is 100 steps): parsed as the whole number 1000, no training runs
    assert exercises.check_warmup_steps(jnp.int32(1000)) is False
    assert "warmup_steps=1000: between 0 and 100" in capsys.readouterr().out
    for bad in (jnp.float32(2.5), True, np.asarray([50])):
        assert exercises.check_warmup_steps(bad) is False
        assert "a whole number of steps" in capsys.readouterr().out


def test_ratio_reading_never_prints_the_measured_value(capsys):
    truth = exercises._depth_ratio(gv.MLPConfig(depth=30, width=64, activation="sigmoid"))
    shown = {f"{truth:{spec}}" for spec in (".3g", ".2g", ".4g", ".1e", ".2e", ".3e", "g")}
    cases = {truth * 1e3: "3 orders of magnitude too high",
             truth * 1e-2: "2 orders of magnitude too low",
             1 / truth: "too high: check the order",
             truth * 1.5: "right order of magnitude, but more than 5% too high",
             truth * 0.8: "right order of magnitude, but more than 5% too low",
             -1.0: "positive", 0.0: "positive"}
    for answer, expected in cases.items():
        assert exercises.check_ratio_reading(answer) is False
        out = capsys.readouterr().out
        assert expected in out, out
        assert not any(s in out for s in shown), (answer, out)
    assert exercises.check_ratio_reading(jnp.float32(truth * 1.02)) is True
    assert f"{truth:.3g}" in capsys.readouterr().out  # a right answer may see the value
