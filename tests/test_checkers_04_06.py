"""Lessons 04-06: every checker with a right answer reachable through the lesson's explorer
(a slider value on its step grid), the solution's own answer, a wrong one and bad input; every
quiz has a hint of its own; the gradviz functions these lessons added, against a second method.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradviz as gv
from gradviz import exercises

REPO = Path(__file__).resolve().parent.parent
LESSONS = ["04_impact_on_training", "05_mathematical_foundations",
           "06_gradient_flow_in_architectures"]


def _one_line(capsys) -> str:
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, out
    return out


BAD = ["abc", [1.0, 2.0], float("nan"), jnp.float32(float("inf")), True, 1 + 2j]


@pytest.mark.parametrize("check", [exercises.check_update_ratio, exercises.check_clip_rescue,
                                   exercises.check_edge_of_chaos, exercises.check_forget_bias])
def test_bad_input_is_one_clear_line(check, capsys):
    for value in BAD:
        assert check(value) is False
        assert "❌" in _one_line(capsys)
    assert check(None) is False
    assert "Not answered yet" in _one_line(capsys)


# --- lesson 04 -------------------------------------------------------------------------------

def _explorer_values(control):
    """Every value a log slider can take."""
    n = round((control.max - control.min) / control.step)
    return [control.base ** (control.min + k * control.step) for k in range(n + 1)]


def test_update_ratio_explorer_solution_wrong(capsys):
    trainer = gv.TrainingExplorer(depth=20, activation="relu", init="he_normal",
                                  learning_rate=0.01)
    grid = _explorer_values(trainer.controls["learning_rate"])
    right = min(grid, key=lambda v: abs(np.log10(v) + 1.6))  # 10**-1.6 = 0.0251 on the slider
    assert abs(right - 10 ** -1.6) < 1e-9
    assert exercises.check_update_ratio(right) is True
    assert exercises.check_update_ratio(jnp.float32(right)) is True  # a JAX scalar
    # the solution's own recipe: scale 0.01 by 1e-3 / the explorer's median ratio at 0.01
    assert exercises.check_update_ratio(0.01 * 1e-3 / np.median(trainer.result["update_ratios"]))
    capsys.readouterr()
    assert exercises.check_update_ratio(0.001) is False  # ratio far too small
    assert "raise" in _one_line(capsys)
    # the ratio is in range at 0.1 but the run does not train: the advice must be to lower
    assert exercises.check_update_ratio(0.1) is False
    assert "lower" in _one_line(capsys)
    # non-monotone: a small ratio at a large rate must not send the learner higher
    assert exercises.check_update_ratio(0.2) is False
    line = _one_line(capsys)
    assert "lower" in line and "raise" not in line


def test_checker_trains_what_the_explorer_shows():
    """The checkers judge the explorer's own run (its weights, its 128 examples, its engine),
    and the slider answers the tests use pass with a margin far above last-bit noise."""
    trainer = gv.TrainingExplorer(depth=20, activation="relu", init="he_normal",
                                  weight_scale=1.5, clip=True, clip_threshold=10 ** 1.5)
    h = exercises._train_task(weight_scale=1.5, learning_rate=0.01, clip_norm=10 ** 1.5)
    np.testing.assert_array_equal(h.loss, trainer.result["loss"])
    np.testing.assert_array_equal(h.update_ratios, trainer.result["update_ratios"])
    _, y = gv.data.teacher_regression(0, 128, 16)
    assert exercises._task_baseline() == pytest.approx(float(np.var(np.asarray(y))))
    assert exercises._late_loss(h) < 0.9 * 0.99 * exercises._task_baseline()  # 0.546 vs 0.620
    g = exercises._train_task(learning_rate=10 ** -1.6)
    assert exercises._late_loss(g) < 0.5 * 0.5 * exercises._task_baseline()  # 0.0996 vs 0.313
    assert 0.6e-3 < np.median(g.update_ratios) < 1.6e-3


def test_clip_rescue_explorer_solution_wrong(capsys):
    trainer = gv.TrainingExplorer(depth=20, activation="relu", init="he_normal",
                                  weight_scale=1.5, clip=True, clip_threshold=10.0)
    grid = _explorer_values(trainer.controls["clip_threshold"])
    right = min(grid, key=lambda v: abs(np.log10(v) - 1.5))  # 31.6 on the clip slider
    assert exercises.check_clip_rescue(right) is True
    assert exercises.check_clip_rescue(300.0) is True  # the solution's answer
    capsys.readouterr()
    assert exercises.check_clip_rescue(10.0) is False  # crawls
    assert "loosen" in _one_line(capsys)
    assert exercises.check_clip_rescue(1000.0) is False  # ends at the mean
    assert "lower" in _one_line(capsys)
    assert exercises.check_clip_rescue(1e4) is False  # the loss grows
    assert "lower it" in _one_line(capsys)
    assert exercises.check_clip_rescue(-1.0) is False
    assert "must be > 0" in _one_line(capsys)


# --- lesson 05 -------------------------------------------------------------------------------

def test_edge_of_chaos_explorer_solution_wrong(capsys):
    from scipy.optimize import brentq

    phase = gv.PhaseExplorer(activation="tanh", sigma_w=1.0, sigma_b=0.0, depth=50)
    phase.controls["bias_scale"].value = 0.3
    slider = phase.controls["weight_scale"]
    grid = np.round(np.arange(slider.min, slider.max + 1e-9, slider.step), 4)
    assert 1.4 in grid and 1.45 in grid
    for right in (1.4, 1.45):
        slider.value = right
        # the explorer and the checker measure the same network
        assert phase.result["measured_chi"] == pytest.approx(
            gv.probes.per_layer_gain(gv.probe_mlp(
                gv.MLPConfig(depth=50, width=64, in_dim=64, activation="tanh", init="lecun",
                             weight_scale=right, bias_scale=0.3),
                seed=0, batch_size=128).activation_grad_norms), rel=1e-4)
        assert exercises.check_edge_of_chaos(right, sigma_b=0.3) is True
    solution = brentq(lambda w: gv.theory.chi("tanh", w, 0.3) - 1, 1.0, 2.0)
    assert exercises.check_edge_of_chaos(solution, sigma_b=0.3) is True
    capsys.readouterr()
    assert exercises.check_edge_of_chaos(1.0, sigma_b=0.3) is False
    assert "increase sigma_w" in _one_line(capsys)
    assert exercises.check_edge_of_chaos(2.5, sigma_b=0.3) is False
    assert "decrease sigma_w" in _one_line(capsys)


# --- lesson 06 -------------------------------------------------------------------------------

def test_forget_bias_explorer_solution_wrong(capsys):
    explorer = gv.RNNExplorer(weight_scale=1.0, init="orthogonal", forget_bias=0.0, seq_len=50)
    slider = explorer.controls["forget_bias"]
    slider.value = 3.0  # on the 0.25 grid
    lstm = explorer.result["LSTM"]
    assert lstm[0] / lstm[-1] >= 0.1  # what the status line shows the learner
    assert exercises.check_forget_bias(3.0) is True  # also the solution's answer
    capsys.readouterr()
    assert exercises.check_forget_bias(1.0) is False
    assert "open the forget gate further" in _one_line(capsys)


def test_rnn_explorer_bound_is_labelled_vanilla_and_regime_is_bounded():
    explorer = gv.RNNExplorer(weight_scale=1.0, init="orthogonal")
    labels = [trace.name for trace in explorer.figure.data]
    assert any(name.startswith("vanilla-RNN bound") for name in labels)
    assert "bounded: cannot grow" in explorer.status.value
    explorer.controls["weight_scale"].value = 0.9
    assert "vanishing guaranteed" in explorer.status.value


# --- every quiz of these lessons has a hint of its own -----------------------------------------

def _quiz_sources():
    for name in LESSONS:
        nb = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and "gv.exercises.Quiz(" in src:
                yield name, src


def test_every_quiz_has_its_own_hint():
    quizzes = list(_quiz_sources())
    assert len(quizzes) == 7
    for name, src in quizzes:
        q = eval(src.split("\n", 1)[1], {"gv": gv})  # noqa: S307 - the lesson's own cell
        assert q.hint, name
        assert q.options[q.answer] not in q.hint, (name, q.hint)
        assert q.hint not in q.explanation
        assert "Hint:" in q.grade(q.options[(q.answer + 1) % len(q.options)])


# --- the gradviz functions these lessons use ---------------------------------------------------

def test_forward_spread_matches_numpy():
    cfg = gv.MLPConfig(depth=6, width=16, activation="tanh", init="lecun", bias_scale=0.1)
    x, _ = gv.data.teacher_regression(0, 64, 16)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(3))
    got = gv.probes.forward_spread(cfg, params=params, x=x)
    h, want = np.asarray(x, np.float64), []
    for layer in params[:-1]:
        h = np.tanh(h @ np.asarray(layer["w"], np.float64) + np.asarray(layer["b"], np.float64))
        want.append(np.sqrt(np.mean(np.var(h, axis=0))) / np.sqrt(np.mean(h ** 2)))
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_sigmoid_forward_collapse_goes_with_the_gradient_ratio():
    cfg = gv.MLPConfig(depth=20, width=32, activation="sigmoid", init="lecun")
    x, y = gv.data.teacher_regression(0, 256, 16)
    s = gv.probes.forward_spread(cfg, x=x)
    d = gv.probe_mlp(cfg, x=x, y=y).activation_grad_norms
    assert s[-1] < 1e-11 and d[0] / d[-1] < 1e-11
    assert 0.1 < (s[-1] / s[0]) / (d[0] / d[-1]) < 10  # same product, comparable factors


def test_float64_spectra_match_a_numpy_product():
    cfg = gv.MLPConfig(depth=30, width=16, in_dim=16, activation="linear", init="lecun")
    params = gv.init_mlp(cfg, jax.random.PRNGKey(1))
    j = np.eye(16)
    for layer in params[:-1]:
        j = j @ np.asarray(layer["w"], np.float64)  # x_L = x_0 W_1 ... W_L
    want = np.linalg.svd(j, compute_uv=False)
    got = gv.probes.jacobian_spectra(cfg, params=params, float64=True)["network"]
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12 * want[0])
    f32 = gv.probes.jacobian_spectra(cfg, params=params)["network"]
    assert f32[-1] > 10 * want[-1]  # float32 cannot resolve the smallest ones


def test_gate_means_match_a_numpy_loop():
    cfg = gv.RNNConfig(cell="gru", hidden=8, init="orthogonal", seq_len=7)
    params = gv.init_rnn(cfg, jax.random.PRNGKey(0))
    xs, _ = gv.data.adding_problem(0, 5, 7)
    got = gv.rnn_probes.gate_means(cfg, params, xs)
    assert list(got) == ["z", "r"]  # the cell's gate order, as the lesson prints them
    p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), params)
    x = np.asarray(xs, np.float64)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    h, zs, rs = np.zeros((5, 8)), [], []
    for t in range(7):
        z = sig(x[:, t] @ p["w_in"]["z"] + h @ p["w_rec"]["z"] + p["b"]["z"])
        r = sig(x[:, t] @ p["w_in"]["r"] + h @ p["w_rec"]["r"] + p["b"]["r"])
        cand = np.tanh(x[:, t] @ p["w_in"]["h"] + (r * h) @ p["w_rec"]["h"] + p["b"]["h"])
        h = z * h + (1 - z) * cand
        zs.append(z.mean())
        rs.append(r.mean())
    assert got["z"] == pytest.approx(np.mean(zs), rel=1e-5)
    assert got["r"] == pytest.approx(np.mean(rs), rel=1e-5)
    assert gv.rnn_probes.gate_means(gv.RNNConfig(cell="rnn", hidden=8, seq_len=7),
                                    gv.init_rnn(gv.RNNConfig(cell="rnn", hidden=8, seq_len=7),
                                                jax.random.PRNGKey(0)), xs) == {}
    lstm = gv.RNNConfig(cell="lstm", hidden=8, seq_len=7, forget_bias=3.0)
    f = gv.rnn_probes.gate_means(lstm, gv.init_rnn(lstm, jax.random.PRNGKey(0)), xs)["f"]
    assert f > 0.9  # sigmoid(3) = 0.953, moved a little by the weights


def test_sharpness_trajectory_is_train_mlps_run():
    from gradviz.stability import sharpness_trajectory

    cfg = gv.MLPConfig(depth=4, width=8, activation="tanh", init="lecun")
    x, y = gv.data.teacher_regression(0, 32, 16)
    tr = sharpness_trajectory(cfg, x, y, learning_rate=0.05, steps=12, every=5)
    h = gv.train_mlp(cfg, "sgd", 0.05, steps=12, x=x, y=y)
    np.testing.assert_array_equal(tr.loss, h.loss)
    assert list(tr.steps) == [0, 5, 10]
    assert tr.sharpness[0] == pytest.approx(gv.probes.sharpness(cfg, x=x, y=y), rel=1e-5)
    assert tr.threshold == pytest.approx(40.0)
    # against a dense Hessian of the same loss at the start
    from jax.flatten_util import ravel_pytree

    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    flat, unravel = ravel_pytree(params)

    def loss(f):
        return jnp.mean((gv.apply_mlp(unravel(f), x, cfg) - y) ** 2)

    top = np.linalg.eigvalsh(np.asarray(jax.hessian(loss)(flat), np.float64))[-1]
    assert tr.sharpness[0] == pytest.approx(top, rel=1e-3)
    with pytest.raises(ValueError, match="learning_rate"):
        sharpness_trajectory(cfg, x, y, learning_rate=0.0, steps=3)


def test_phase_diagram_legend_clears_the_colour_bar():
    ws, bs = np.linspace(0.5, 2, 4), np.linspace(0, 1, 3)
    fig = gv.plots.phase_diagram_figure(ws, bs, np.ones((3, 4)),
                                        measured={"sigma_w": [1.0], "sigma_b": [0.0],
                                                  "gain": [1.0]})
    legend = fig.layout.legend
    assert legend.orientation == "h" and legend.y >= 1 and legend.yanchor == "bottom"
    assert legend.x == 0 and legend.xanchor == "left"  # the colour bar is on the right
