"""The answer checkers and quizzes of lessons 00-03, tried as a learner would.

Each checker is called with a right answer a learner can reach with the lesson's own
explorer (a slider value on the slider's step grid, or a number read off its status line),
with the answer of the lesson's own solution, with a wrong answer and with bad input (one
clear line, no exception). Every quiz in these lessons has a hint of its own that does not
name the right option.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

import gradviz as gv
from gradviz import exercises, widgets

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = ["00_start_here", "01_vanishing_vs_exploding", "02_understanding", "03_key_causes"]


def _grid(control, exponent: float) -> float:
    """The value a FloatLogSlider shows at ``base ** exponent``, checked to be on its grid."""
    steps = (exponent - control.min) / control.step
    assert abs(steps - round(steps)) < 1e-9, f"{exponent} is not on the slider's grid"
    assert control.min <= exponent <= control.max
    return float(control.base ** exponent)


@pytest.fixture(scope="module")
def weight_slider():
    """The weight-scale slider every gradient explorer of these lessons has (log, 10^0.01 steps)."""
    return widgets._mlp_controls(100, 30, "tanh", "lecun", 1.0, False, 1.0)["weight_scale"]


def _one_line(capsys) -> str:
    out = capsys.readouterr().out.strip()
    assert out and "\n" not in out, f"expected one line, got {out!r}"
    return out


BAD_INPUTS = ["0.5", float("nan"), math.inf, np.array([0.5, 0.6]), True, 1 + 2j]

# Bad input for every checker of lessons 00-03: one clear line, never an exception. Each
# checker also gets the out-of-range values of its own quantity.
BAD_CASES = [(name, bad) for name, extra in [
    ("check_ratio_reading", []), ("check_critical_scale", [-1.0, 0.0]),
    ("check_clipped_norm", []), ("check_chain_factor", [-0.8, 0.0, 5.0]),
    ("check_half_saturated", [-1.0, 0.0]), ("check_stable_learning_rate", [-0.1, 0.0]),
] for bad in BAD_INPUTS + extra]


@pytest.mark.parametrize("name, bad", BAD_CASES, ids=lambda v: repr(v))
def test_bad_input_gets_one_line(name, bad, capsys):
    assert not getattr(exercises, name)(bad)
    assert _one_line(capsys).startswith(exercises.WRONG)



# ---- lesson 00 ------------------------------------------------------------------------------

def test_ratio_reading_from_the_explorer_status_line(capsys):
    explorer = gv.GradientExplorer(depth=30, activation="sigmoid", init="lecun")
    d = explorer.result["activation_grad_norms"]
    shown = float(widgets._fmt(d[0] / d[-1]))  # the number before 'measured' in the status line
    assert exercises.check_ratio_reading(shown)
    assert exercises.check_ratio_reading(d[0] / d[-1])  # the solution: read it in code
    capsys.readouterr()


def test_ratio_reading_wrong_answer_does_not_give_the_value_away(capsys):
    truth = exercises._depth_ratio(gv.MLPConfig(depth=30, width=64, activation="sigmoid"))
    for wrong in (truth * 10, truth / 1000, 1 / truth, truth * 1.2, -1e-18):
        assert not exercises.check_ratio_reading(wrong)
        line = _one_line(capsys)
        for shown in {f"{truth:.3g}", f"{truth:.2g}", f"{truth:.1e}"}:
            assert shown not in line, f"the wrong-answer message printed the value: {line}"


# ---- lesson 01 ------------------------------------------------------------------------------

def test_critical_scale_on_the_slider_grid(weight_slider, capsys):
    # the lesson's solution: every setting from 10^0.03 (1.07) to 10^0.07 (1.17) passes
    for k in range(3, 8):
        assert exercises.check_critical_scale(_grid(weight_slider, k / 100)), k
    assert not exercises.check_critical_scale(_grid(weight_slider, 0.08))  # 1.20: ratio 2.04
    assert exercises.check_critical_scale(1.15)  # the solution's answer
    assert not exercises.check_critical_scale(1.0)  # vanishes (ratio ~0.14)
    assert "larger" in capsys.readouterr().out.splitlines()[-1]
    assert not exercises.check_critical_scale(2.0)
    assert "smaller" in _one_line(capsys)


def test_clipped_norm(capsys):
    # the threshold on the explorer's clip slider (10^0 = 1) is the answer, as the solution says
    controls = widgets._mlp_controls(100, 30, "relu", "he_normal", 1.6, True, 1.0)
    threshold = controls["clip_threshold"]
    assert exercises.check_clipped_norm(_grid(threshold, 0.0))
    assert exercises.check_clipped_norm(1.0)
    capsys.readouterr()
    # the raw norm (far above 1: 1.67e15 at seed 0, not the 3e13 the task once quoted)
    r = gv.probe_mlp(gv.MLPConfig(depth=30, width=64, activation="relu", init="he_normal",
                                  weight_scale=1.6), seed=0, batch_size=128, clip_norm=1.0)
    assert r.global_norm > 1e14
    assert not exercises.check_clipped_norm(r.global_norm)
    # the root of the orange curve's squares leaves out biases and readout: below 1, rejected
    partial = float(np.sqrt(np.sum(r.clipped_weight_grad_norms ** 2)))
    assert 0.9 < partial < 0.98
    assert not exercises.check_clipped_norm(partial)
    capsys.readouterr()


# ---- lesson 02 ------------------------------------------------------------------------------

def test_chain_factor_reachable_on_the_slider(weight_slider, capsys):
    assert exercises.check_chain_factor(_grid(weight_slider, -0.10))  # 0.794 -> 1.26e-3
    assert not exercises.check_chain_factor(_grid(weight_slider, -0.11))  # 0.776 -> 6.4e-4
    assert exercises.check_chain_factor(1e-3 ** (1 / 29))  # the solution's 0.788
    capsys.readouterr()
    assert not exercises.check_chain_factor(0.9)
    assert "lower" in _one_line(capsys)
    assert not exercises.check_chain_factor(0.7)
    assert "raise" in _one_line(capsys)


# ---- lesson 03 ------------------------------------------------------------------------------

def test_half_saturated_on_the_slider_grid(weight_slider, capsys):
    # the lesson's solution: every setting from 10^0.52 (3.31) to 10^0.59 (3.89) passes
    for k in range(52, 60):
        assert exercises.check_half_saturated(_grid(weight_slider, k / 100)), k
    assert not exercises.check_half_saturated(_grid(weight_slider, 0.51))
    assert not exercises.check_half_saturated(_grid(weight_slider, 0.60))
    assert exercises.check_half_saturated(3.5)  # the solution's answer
    capsys.readouterr()
    assert not exercises.check_half_saturated(2.0)
    assert "larger weights" in _one_line(capsys)


def test_stable_learning_rate_on_the_explorer_grid(capsys):
    trainer = gv.TrainingExplorer(depth=10, activation="relu", init="he_normal",
                                  learning_rate=0.03, batch_size=256, max_depth=20)
    lr_slider = trainer.controls["learning_rate"]
    for k in (-14, -13, -12):  # 0.2, 0.224, 0.251: the settings the solution names
        lr = _grid(lr_slider, k * lr_slider.step)
        assert exercises.check_stable_learning_rate(lr), lr
        # the explorer trains the same network: it shows that run finishing
        trainer.controls["learning_rate"].value = lr
        trainer.update()
        assert trainer.result["diverged_at"] is None
    assert not exercises.check_stable_learning_rate(_grid(lr_slider, -0.55))  # 0.282 diverges
    capsys.readouterr()


def test_stable_learning_rate_solution_bisection(capsys):
    x, y = gv.data.teacher_regression(0, 256, 16)
    net = gv.MLPConfig(**exercises.LR_TASK)
    lam = gv.probes.sharpness(net, x=x, y=y)
    lo, hi = 6 * 2 / lam, 8 * 2 / lam
    for _ in range(6):
        mid = (lo * hi) ** 0.5
        lo, hi = (lo, mid) if gv.exercises.diverges(mid) else (mid, hi)
    assert exercises.check_stable_learning_rate(lo)
    capsys.readouterr()
    assert not exercises.check_stable_learning_rate(0.05)
    assert "go higher" in _one_line(capsys)
    assert not exercises.check_stable_learning_rate(0.5)
    assert "go lower" in _one_line(capsys)


def test_diverges_is_public_and_documented():
    assert exercises.diverges.__doc__ and "LR_TASK" in exercises.diverges.__doc__
    assert not exercises.diverges(0.01) and exercises.diverges(1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        exercises.diverges(-1.0)


# ---- quizzes --------------------------------------------------------------------------------

def _quizzes(lesson: str):
    nb = nbformat.read(NOTEBOOKS / f"{lesson}.ipynb", as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "gv.exercises.Quiz(" in cell.source:
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.lstrip().startswith("#"))
            yield i, eval(source, {"gv": gv})  # noqa: S307 - the lesson's own cell


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_quiz_has_its_own_hint(lesson):
    quizzes = list(_quizzes(lesson))
    assert quizzes, f"{lesson} has no quiz"
    for i, quiz in quizzes:
        assert quiz.hint, f"{lesson} c{i}: no hint"
        right = quiz.options[quiz.answer]
        assert right.lower() not in quiz.hint.lower(), f"{lesson} c{i}: the hint names the answer"
        assert quiz.hint not in quiz.explanation
        for option in quiz.options:
            if option != right:
                assert quiz.hint in quiz.grade(option)
                assert quiz.explanation not in quiz.grade(option)
        assert quiz.explanation in quiz.grade(right)
