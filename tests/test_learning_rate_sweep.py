"""stability.learning_rate_sweep: lesson 03's learning-rate runs (train_mlp, then the probes)."""

import numpy as np
import pytest

import gradviz as gv
from gradviz.stability import learning_rate_sweep


def test_sweep_is_train_mlp_then_the_probes_and_the_threshold_splits_it():
    cfg = gv.MLPConfig(depth=4, width=16, activation="relu", init="he_normal")
    x, y = gv.data.teacher_regression(0, 64, 16)
    lam = gv.probes.sharpness(cfg, x=x, y=y)
    low, high = learning_rate_sweep(cfg, x, y, [0.5 * 2 / lam, 40 * 2 / lam], steps=30)
    # the survivor: its own run, re-measured at its final weights by a second route
    h = gv.train_mlp(cfg, "sgd", 0.5 * 2 / lam, steps=30, x=x, y=y)
    np.testing.assert_array_equal(low.loss, h.loss)
    assert low.diverged_at is None and low.loss[-1] < low.loss[0]
    sharp = gv.probes.sharpness(cfg, params=h.params, x=x, y=y)
    dead = gv.probes.activation_stats(cfg, params=h.params, x=x)["dead"].mean()
    assert low.sharpness_after == pytest.approx(sharp, rel=1e-5)
    assert low.dead_after == pytest.approx(dead)
    assert low.first_layer_growth == pytest.approx(np.max(h.grad_norms[:, 0]) / h.grad_norms[0, 0])
    assert low.threshold == pytest.approx(2 / (0.5 * 2 / lam))
    assert low.row()["final loss"] == low.loss[-1]
    # 40x past 2 / lambda_max: every step multiplies the sharpest error by ~79, so it must blow up
    assert high.diverged_at is not None and high.sharpness_after is None and high.dead_after is None
    assert high.row()["final loss"] is None


def test_sweep_rejects_bad_learning_rates():
    cfg = gv.MLPConfig(depth=2, width=4)
    with pytest.raises(ValueError, match="learning_rates"):
        learning_rate_sweep(cfg, *gv.data.teacher_regression(0, 8, 16), [0.1, -1.0])
    with pytest.raises(ValueError, match="cfg"):
        learning_rate_sweep("mlp", *gv.data.teacher_regression(0, 8, 16), [0.1])


def test_threshold_sweep_trains_each_draw_at_its_own_threshold():
    cfg = gv.MLPConfig(depth=4, width=16, activation="relu", init="he_normal")
    x, y = gv.data.teacher_regression(0, 64, 16)
    rows = gv.stability.threshold_sweep(cfg, x, y, (0.5, 40), seeds=range(3), steps=30)
    after, finals = [], []
    for s in range(3):  # the second route: each draw's own threshold, train_mlp, then the probe
        lr = 0.5 * 2 / gv.probes.sharpness(cfg, x=x, y=y, seed=s)
        h = gv.train_mlp(cfg, "sgd", lr, steps=30, seed=s, x=x, y=y)
        assert h.diverged_at is None
        finals.append(h.loss[-1])
        after.append(gv.probes.sharpness(cfg, params=h.params, x=x, y=y) * lr / 2)
    low = rows["0.5 x 2/lambda"]
    assert low["diverged"] == "0 of 3" and low["at step (median)"] is None
    assert low["final loss"] == pytest.approx(np.median(finals), rel=1e-4)
    assert low["lambda after / (2/lr)"] == pytest.approx(np.median(after), rel=1e-3)
    assert low["at or past 2/lr"] == f"{sum(a >= 1 for a in after)} of 3"
    high = rows["40 x 2/lambda"]  # 40 times the threshold: every draw overflows
    assert high["diverged"] == "3 of 3" and high["final loss"] is None
    assert high["at or past 2/lr"] == "0 of 0"
    with pytest.raises(ValueError, match="multiples"):
        gv.stability.threshold_sweep(cfg, x, y, (0.0,), seeds=range(2))
