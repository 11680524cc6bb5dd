"""Lesson 12's infographic: the decision rule, the live measurements it shows, the export."""

import math

import numpy as np
import pytest

import gradviz as gv
from gradviz import infographic


def test_diagnose_rule():
    assert infographic.diagnose([0.09, 1.0])[0] == "vanishing"
    assert infographic.diagnose([0.11, 1.0])[0] == "healthy"
    assert infographic.diagnose([9.9, 1.0])[0] == "healthy"
    assert infographic.diagnose([10.1, 1.0])[0] == "exploding"
    assert infographic.diagnose([math.inf, 1.0])[0] == "overflow"
    assert infographic.diagnose([1.0, math.nan, 1.0])[0] == "overflow"
    assert infographic.diagnose([0.0, math.nan])[0] == "overflow"  # non-finite wins over zero
    # A zero gradient is never overflow: nothing reaches the first layer (r = 0) ...
    assert infographic.diagnose([0.0, 1.0]) == ("vanishing", infographic.ADVICE["vanishing"])
    assert infographic.diagnose([0.0, 0.0, 0.0])[0] == "vanishing"  # no gradient at all
    # ... or nothing leaves the output side, so by the chain rule no layer learns
    assert infographic.diagnose([1.0, 0.0])[0] == "vanishing"
    assert infographic.diagnose([1e-300, 5.0, 0.0])[0] == "vanishing"
    # finite norms whose ratio overflows float64 are exploding, not overflow
    assert infographic.diagnose([1e300, 1e-300])[0] == "exploding"
    assert infographic.diagnose(np.array([1e30, 1e-30], np.float32))[0] == "exploding"
    with pytest.raises(ValueError, match="activation_grad_norms"):
        infographic.diagnose([1.0])


def _profile(g: float, depth: int) -> np.ndarray:
    """||dL/dh_l|| of a network whose every layer multiplies the gradient by g."""
    return g ** np.arange(depth - 1, -1, -1.0)


@pytest.mark.parametrize("g, depth, verdict", [
    (1.1, 10, "healthy"),     # 1.1^9 = 2.4
    (1.1, 30, "exploding"),   # 1.1^29 = 16: the same layer, deeper
    (0.9, 10, "healthy"),     # 0.39
    (0.9, 30, "vanishing"),   # 0.047
    (1.22, 30, "exploding"),  # batch-norm ReLU's sqrt(pi/(pi-1)) per layer (lesson 07)
])
def test_the_rule_is_per_layer_and_depth_aware(g, depth, verdict):
    d = _profile(g, depth)
    assert infographic.per_layer_factor(d) == pytest.approx(g)
    assert infographic.diagnose(d)[0] == verdict
    lo, hi = infographic.healthy_band(depth)
    assert (lo <= g <= hi) == (verdict == "healthy")
    assert lo ** (depth - 1) == pytest.approx(infographic.LOW)
    assert hi ** (depth - 1) == pytest.approx(infographic.HIGH)


def test_tanh_at_its_gain_is_exploding_at_depth_30_by_theory():
    # chi = 1.21 (lesson 09): sqrt(chi)^29 = 16 > 10
    g = math.sqrt(gv.theory.chi("tanh", 5 / 3))
    assert infographic.diagnose(_profile(g, 30))[0] == "exploding"


@pytest.fixture(scope="module")
def measured():
    return infographic.measure(seed=0)


def test_each_regime_gets_its_verdict_and_the_causes_match_theory(measured):
    assert list(measured["verdicts"].values()) == ["vanishing", "healthy", "exploding"]
    medians = {n: float(np.median(r)) for n, r in measured["ratios"].items()}
    assert [infographic._verdict_of_ratio(v) for v in medians.values()] == [
        "vanishing", "healthy", "exploding"]
    assert measured["diverged_at"]["exploding: ReLU, He x 1.5"] is not None
    assert measured["diverged_at"]["healthy: ReLU, He"] is None
    for cause, (got, want) in measured["causes"].items():
        assert len(got) == len(infographic.SEEDS)
        assert float(np.median(got)) == pytest.approx(want, rel=0.05), cause
    fixes = {k: float(np.median(v)) for k, v in measured["fixes"].items()}
    assert abs(np.log10(fixes["sigmoid (the problem)"])) > 10
    assert infographic.LOW < fixes["→ ReLU x 1.5 + layer norm"] < infographic.HIGH
    assert infographic.LOW < fixes["→ sigmoid + batch norm"] < infographic.HIGH


def test_symptoms_are_judged_on_held_out_data(measured):
    x, y = gv.data.teacher_regression(0, infographic.BATCH + infographic.N_HELD_OUT, 16)
    base = np.mean((np.asarray(y[infographic.BATCH:]) - np.asarray(y[:infographic.BATCH]).mean(0))
                   ** 2)
    assert measured["baseline"] == pytest.approx(base, rel=1e-5)
    held = measured["held_out"]
    # the vanishing network learns nothing: it predicts the training mean
    assert held["vanishing: sigmoid, LeCun"] == pytest.approx(base, rel=0.01)
    # the healthy one beats that baseline on examples it never saw
    assert held["healthy: ReLU, He"] < base
    assert math.isnan(held["exploding: ReLU, He x 1.5"])


def test_figure_shows_the_measurements_and_exports_standalone(measured, tmp_path):
    fig = infographic.figure(measured)
    profiles = [t for t in fig.data if t.type == "scatter" and t.xaxis == "x"]  # panel 1
    for trace, d in zip(profiles, measured["deltas"].values(), strict=True):
        np.testing.assert_allclose(np.asarray(trace.y, dtype=float), d / d[-1], rtol=1e-6)
    bars = [t for t in fig.data if t.type == "bar"]  # panel 4: signed log10 of the medians
    medians = [float(np.median(v)) for v in measured["fixes"].values()]
    np.testing.assert_allclose(np.asarray(bars[0].x, dtype=float)[::-1], np.log10(medians))
    assert min(bars[0].x) < 0 < max(bars[0].x)  # direction is kept: both signs appear
    tables = [t for t in fig.data if t.type == "table"]
    assert len(tables) == 2 and list(tables[1].cells.values[0]) == list(
        row[0] for row in infographic.COMPARISON)
    paths = infographic.export(fig, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html and len(html) > 3_000_000  # plotly.js is inside
    assert '<script src="http' not in html  # no script from the network (the browser test
    # also checks that opening it requests nothing but the file itself)
    if paths["png"] is not None:
        assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_text_smaller_than_8_points_on_a4(measured):
    fig = infographic.figure(measured)
    mm_per_px = min(190 / fig.layout.width, 277 / fig.layout.height)
    sizes = [fig.layout.font.size]
    sizes += [a.font.size for a in fig.layout.annotations if a.font.size is not None]
    for t in fig.data:
        if t.type == "table":
            sizes += [t.header.font.size, t.cells.font.size]
    assert min(sizes) * mm_per_px / 0.3528 >= 8.0  # 1 pt = 0.3528 mm


def test_check_exploding_fix():
    base = dict(depth=40, activation="relu", init="he_normal", weight_scale=1.5)
    assert gv.exercises.check_exploding_fix(gv.MLPConfig(**base, norm="layer"))
    assert not gv.exercises.check_exploding_fix(gv.MLPConfig(**base, norm="batch"))
    assert not gv.exercises.check_exploding_fix(gv.MLPConfig(**base))
    assert not gv.exercises.check_exploding_fix(gv.MLPConfig(depth=40, activation="relu"))
    assert not gv.exercises.check_exploding_fix(None)
    assert not gv.exercises.check_exploding_fix("relu")  # bad input: one clear line
    assert not gv.exercises.check_exploding_fix(gv.MLPConfig(**{**base, "depth": 32},
                                                             norm="layer"))  # too shallow
