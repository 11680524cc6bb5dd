"""The explorer: every control re-plots, values stay finite when healthy, nothing recompiles."""

import math

import numpy as np
import pytest

import gradviz as gv
from gradviz import widgets


@pytest.fixture(scope="module")
def explorer():
    return gv.GradientExplorer(depth=12, activation="tanh", init="lecun")


def _traces(ex):
    return {t.name: t.y for t in ex.figure.data}


def test_contract_controls(explorer):
    for name in ("depth", "activation", "weight_scale", "clip_threshold", "init", "clip"):
        assert name in explorer.controls
    assert explorer.figure.__class__.__name__ == "FigureWidget"


def test_depth_sets_trace_length(explorer):
    fig = explorer.figure
    for depth in (1, 37, 100, 12):
        explorer.controls["depth"].value = depth
        assert len(_traces(explorer)[widgets.BEFORE]) == depth
        assert len(_traces(explorer)[widgets.DELTA]) == depth
    assert explorer.figure is fig  # updated in place, never recreated


@pytest.mark.parametrize("control,value", [("activation", "relu"), ("init", "orthogonal"),
                                           ("weight_scale", 1.5), ("depth", 30)])
def test_each_control_changes_the_plot(explorer, control, value):
    before = np.array(_traces(explorer)[widgets.BEFORE], dtype=float)
    old = explorer.controls[control].value
    explorer.controls[control].value = value
    after = np.array(_traces(explorer)[widgets.BEFORE], dtype=float)
    assert before.shape != after.shape or not np.allclose(before, after)
    explorer.controls[control].value = old


def test_healthy_settings_give_finite_values_and_match_probe_mlp(explorer):
    c = explorer.controls
    c["activation"].value, c["init"].value, c["weight_scale"].value = "relu", "he_normal", 1.0
    c["depth"].value = 40
    y = np.array(_traces(explorer)[widgets.BEFORE], dtype=float)
    assert np.all(np.isfinite(y)) and np.all(y > 0)
    r = gv.probe_mlp(gv.MLPConfig(depth=40, width=64, activation="relu", init="he_normal"),
                     seed=0, batch_size=128)
    np.testing.assert_allclose(y, r.weight_grad_norms, rtol=1e-4)
    pred = np.array(_traces(explorer)[widgets.PREDICTION], dtype=float)
    assert pred.shape == (40,) and np.all(np.isfinite(pred))


def test_clipping_trace_bounded_by_threshold(explorer):
    c = explorer.controls
    c["activation"].value, c["init"].value, c["weight_scale"].value = "relu", "he_normal", 1.5
    c["clip"].value = True
    for t in (0.01, 1.0, 100.0):
        c["clip_threshold"].value = t
        after = np.array(_traces(explorer)[widgets.AFTER], dtype=float)
        assert math.sqrt(np.sum(after**2)) <= t * (1 + 1e-5)
    c["clip"].value = False
    assert len(_traces(explorer)[widgets.AFTER]) == 0


def test_exploding_shows_overflow_and_recovers(explorer):
    c = explorer.controls
    c["activation"].value, c["init"].value, c["depth"].value = "relu", "he_normal", 100
    c["weight_scale"].value = 4.0
    assert len(explorer.figure.data[4].x) > 0  # overflow markers
    assert "overflowed float32" in explorer.figure.layout.annotations[0].text
    assert "forward signal overflowed" in explorer.status.value
    c["weight_scale"].value = 1.0
    y = np.array(_traces(explorer)[widgets.BEFORE], dtype=float)
    assert np.all(np.isfinite(y)) and len(explorer.figure.data[4].x) == 0


def test_no_compile_after_first_display(count_compiles):
    ex = gv.GradientExplorer(depth=5)
    c = ex.controls
    with count_compiles() as counter:
        for depth in (1, 2, 50, 99, 100, 3):
            c["depth"].value = depth
        for name in gv.activations.NAMES:
            c["activation"].value = name
        for name in gv.init.NAMES:
            c["init"].value = name
        for s in np.geomspace(0.1, 4.0, 9):
            c["weight_scale"].value = float(s)
        c["clip"].value = True
        for t in np.geomspace(0.01, 100, 9):
            c["clip_threshold"].value = float(t)
        c["clip"].value = False
    assert counter.count == 0, counter.names


def test_errors_in_callbacks_reach_the_learner(monkeypatch):
    ex = gv.GradientExplorer(depth=3)

    def broken():
        raise RuntimeError("probe failed")

    monkeypatch.setattr(ex, "compute", broken)
    with pytest.raises(RuntimeError):
        ex.controls["depth"].value = 4
    assert any("probe failed" in o.get("text", "") for o in ex.errors.outputs)


def test_phase_explorer_measures_what_theory_predicts():
    ex = gv.PhaseExplorer(activation="tanh", sigma_w=1.0, sigma_b=0.0, depth=50)
    for sw, sb in ((0.8, 0.0), (1.5, 0.0), (2.0, 0.5)):
        ex.controls["weight_scale"].value, ex.controls["bias_scale"].value = sw, sb
        r = ex.result
        assert r["measured_chi"] == pytest.approx(r["theory_chi"], rel=0.06)
        assert list(ex.figure.data[2].x) == [sw]
    z_tanh = np.array(ex.figure.data[0].z, dtype=float)
    ex.controls["activation"].value = "relu"
    z_relu = np.array(ex.figure.data[0].z, dtype=float)
    # relu: chi = sigma_w**2 / 2 whatever sigma_b, so every row of the grid is the same
    np.testing.assert_allclose(z_relu, np.log10(ex.SIGMA_WS**2 / 2)[None, :].repeat(11, 0),
                               atol=2e-5)
    assert not np.allclose(z_tanh, z_relu)


def test_chi_grid_matches_pointwise_chi():
    sw, sb = np.array([0.5, 1.0, 1.7]), np.array([0.0, 0.4])
    grid = gv.theory.chi_grid("tanh", sw, sb, steps=2048)
    expected = [[gv.theory.chi("tanh", w, b) for w in sw] for b in sb]
    np.testing.assert_allclose(grid, expected, rtol=1e-4)
