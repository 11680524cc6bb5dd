"""Lessons 07-09's checkers, tried as a learner would: a right answer reachable with the lesson's
own explorer (a slider value on its step grid), the solution's own answer, wrong answers, and
bad input (one clear line, no exception)."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import gradviz as gv
from gradviz import exercises


def _grid(slider, exponent: float) -> float:
    """The FloatLogSlider value ``base**exponent``, checked to lie on the slider's step grid."""
    steps = (exponent - slider.min) / slider.step
    assert abs(steps - round(steps)) < 1e-9 and slider.min <= exponent <= slider.max
    return slider.base ** exponent


def _sigmoid(**kw):
    return gv.MLPConfig(depth=50, width=64, activation="sigmoid", init="lecun", **kw)


# ---- lesson 07: check_sigmoid_cure ----------------------------------------------------------

def test_07_explorer_setting_passes():
    explorer = gv.MitigationExplorer(depth=50, weight_scale=1.0, relu=False, batch_norm=True,
                                     residual=False, lstm=False)
    scale = _grid(explorer.controls["weight_scale"], 0.3)  # the slider at about 2
    assert exercises.check_sigmoid_cure(_sigmoid(norm="batch", weight_scale=scale))
    assert exercises.check_sigmoid_cure(_sigmoid(residual=True))  # the skip toggle


def test_07_solution_passes():
    assert exercises.check_sigmoid_cure(_sigmoid(norm="batch"))


def test_07_wrong_answers_fail_with_advice(capsys):
    assert not exercises.check_sigmoid_cure(_sigmoid())
    assert "still vanishes" in capsys.readouterr().out
    assert not exercises.check_sigmoid_cure(_sigmoid(norm="batch", residual=True))  # 15.7
    assert "grows toward the input" in capsys.readouterr().out
    assert not exercises.check_sigmoid_cure(_sigmoid(norm="layer"))


@pytest.mark.parametrize("bad", [None, "sigmoid", 3.0,
                                 gv.MLPConfig(depth=50, activation="relu"),
                                 gv.MLPConfig(depth=10, activation="sigmoid")])
def test_07_bad_input_is_one_line(bad, capsys):
    assert exercises.check_sigmoid_cure(bad) is False
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


# ---- lesson 08: check_cliff_clip -------------------------------------------------------------

def test_08_explorer_threshold_passes():
    explorer = gv.ClippingExplorer(depth=20, weight_scale=1.5, learning_rate=0.01,
                                   method="by global norm", clip_threshold=10.0)
    slider = explorer.controls["clip_threshold"]
    assert exercises.check_cliff_clip(_grid(slider, -2.0))   # 0.01
    assert exercises.check_cliff_clip(_grid(slider, -1.5))   # 0.0316


def test_08_solution_passes():
    assert exercises.check_cliff_clip(0.05)
    assert exercises.check_cliff_clip(jnp.float32(0.01))  # a JAX scalar is a number too


@pytest.mark.parametrize("c", [0.15, 0.1, 0.07, 1.0, 0.003, 1e-4])
def test_08_bouncing_or_crawling_runs_fail(c, capsys):
    """0.15 ends on a low loss but alternates with the wall's 2.95: judged on the last 5."""
    assert not exercises.check_cliff_clip(c)
    out = capsys.readouterr().out
    assert ("bounces" in out) == (c >= 0.07)


def test_08_final_step_alone_would_have_passed_at_0_15():
    run = gv.cliff.descend(gv.cliff.wall(), 0.01, 30, clip_norm=0.15)
    assert run["loss"][-1] < 0.05 < max(run["loss"][-5:])


@pytest.mark.parametrize("bad", [None, "0.05", math.nan, -1.0, 0.0, np.array([0.01, 0.02]), True])
def test_08_bad_input_is_one_line(bad, capsys):
    assert exercises.check_cliff_clip(bad) is False
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


# ---- lesson 09: check_tanh_sigma -------------------------------------------------------------

def test_09_explorer_settings_pass():
    explorer = gv.ActivationExplorer(activation="tanh", sigma=1.0)
    slider = explorer.controls["sigma"]
    assert exercises.check_tanh_sigma(_grid(slider, -0.04))  # 0.912
    assert exercises.check_tanh_sigma(_grid(slider, -0.06))  # 0.871


def test_09_solution_passes():
    assert exercises.check_tanh_sigma(0.9)


@pytest.mark.parametrize("sigma", [1.0, 2.0, 0.5])
def test_09_wrong_answers_fail(sigma):
    assert not exercises.check_tanh_sigma(sigma)


@pytest.mark.parametrize("bad", [None, "0.9", math.inf, -0.9, 0.0, np.ones(3), 1 + 2j])
def test_09_bad_input_is_one_line(bad, capsys):
    assert exercises.check_tanh_sigma(bad) is False
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


# ---- every quiz of lessons 07-09 has a hint of its own ----------------------------------------

def _quizzes():
    from pathlib import Path

    import nbformat
    for path in sorted((Path(__file__).parent.parent / "notebooks").glob("0[789]_*.ipynb")):
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code" and "gv.exercises.Quiz(" in cell.source:
                yield f"{path.name[:2]} c{i}", cell.source


@pytest.mark.parametrize("where,source", list(_quizzes()), ids=lambda v: v if " c" in v else "")
def test_quiz_has_a_hint_that_does_not_name_the_answer(where, source):
    quiz = eval(source.replace("# NBVAL_IGNORE_OUTPUT", ""), {"gv": gv})  # noqa: S307
    assert quiz.hint and quiz.hint.strip(), where
    right = quiz.options[quiz.answer]
    assert right.lower() not in quiz.hint.lower(), where
    assert quiz.grade(quiz.options[(quiz.answer + 1) % len(quiz.options)]).endswith(quiz.hint)
