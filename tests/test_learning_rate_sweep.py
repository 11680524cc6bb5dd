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
