"""Lesson 12's infographic: the decision rule, the live measurements it shows, the export."""

import math

import numpy as np
import pytest

import gradviz as gv
from gradviz import infographic


def test_diagnose_rule():
    assert infographic.diagnose([1e-3, 1.0])[0] == "vanishing"
    assert infographic.diagnose([0.011, 1.0])[0] == "healthy"
    assert infographic.diagnose([99.0, 1.0])[0] == "healthy"
    assert infographic.diagnose([101.0, 1.0])[0] == "exploding"
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


@pytest.fixture(scope="module")
def measured():
    return infographic.measure(seed=0)


def test_each_regime_gets_its_verdict_and_the_causes_match_theory(measured):
    assert list(measured["verdicts"].values()) == ["vanishing", "healthy", "exploding"]
    assert measured["diverged_at"]["exploding: ReLU, He x 1.5"] is not None
    assert measured["diverged_at"]["healthy: ReLU, He"] is None
    for cause, (got, want) in measured["causes"].items():
        assert got == pytest.approx(want, rel=0.08), cause
    fixes = measured["fixes"]
    assert abs(np.log10(fixes["sigmoid (the problem)"])) > 10
    for name, ratio in fixes.items():
        if name.startswith("→"):
            assert infographic.LOW < ratio < infographic.HIGH, name


def test_figure_shows_the_measurements_and_exports_standalone(measured, tmp_path):
    fig = infographic.figure(measured)
    profiles = [t for t in fig.data if t.type == "scatter" and t.xaxis == "x"]  # panel 1
    for trace, values in zip(profiles, measured["profiles"].values(), strict=True):
        np.testing.assert_allclose(np.asarray(trace.y, dtype=float), values)
    paths = infographic.export(fig, tmp_path)
    html = paths["html"].read_text()
    assert "Plotly.newPlot" in html and len(html) > 3_000_000  # plotly.js is inside
    assert '<script src="http' not in html  # no script from the network (the browser test
    # also checks that opening it requests nothing but the file itself)
    if paths["png"] is not None:
        assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_check_exploding_fix():
    base = dict(depth=40, activation="relu", init="he_normal", weight_scale=1.5)
    assert gv.exercises.check_exploding_fix(gv.MLPConfig(**base, norm="layer"))
    assert not gv.exercises.check_exploding_fix(gv.MLPConfig(**base, norm="batch"))
    assert not gv.exercises.check_exploding_fix(gv.MLPConfig(**base))
    assert not gv.exercises.check_exploding_fix(gv.MLPConfig(depth=40, activation="relu"))
    assert not gv.exercises.check_exploding_fix(None)
