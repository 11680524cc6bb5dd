"""gradviz.probes.ratio_bound: the weight-and-slope bound on the gradient ratio (lesson 03)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import gradviz as gv


def test_tight_for_a_scalar_chain():
    """Width 1, linear: every factor is |w|, so the bound is the measured ratio itself."""
    cfg = gv.MLPConfig(depth=30, width=1, in_dim=1, activation="linear", init="orthogonal",
                       weight_scale=0.8)
    d = gv.probe_mlp(cfg, seed=0, batch_size=128).activation_grad_norms
    b = gv.probes.ratio_bound(cfg)
    assert b["ratio"] == pytest.approx(0.8 ** 29, rel=1e-5)
    assert b["ratio"] == pytest.approx(float(d[0] / d[-1]), rel=1e-4)
    assert b["slopes"] == 1.0


@pytest.mark.parametrize("sigma_w", [1.0, 4.0])
def test_sigmoid_bounds_against_numpy_svd_and_the_measurement(sigma_w):
    cfg = gv.MLPConfig(depth=30, width=64, activation="sigmoid", init="lecun",
                       weight_scale=sigma_w)
    b = gv.probes.ratio_bound(cfg, seed=3)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(3))
    sv = [np.linalg.svd(np.asarray(p["w"], np.float64), compute_uv=False)[0]
          for p in params[1:30]]
    assert b["sigma_max"] == pytest.approx(sv, rel=1e-9)
    assert b["slopes"] == pytest.approx(0.25 ** 29, rel=1e-6)
    assert b["ratio"] == pytest.approx(np.prod(np.array(sv) / 4), rel=1e-5)
    d = gv.probe_mlp(cfg, seed=3, batch_size=128).activation_grad_norms
    assert d[0] / d[-1] <= b["ratio"]


def test_the_slope_bound_is_not_a_ceiling_on_the_ratio():
    """Lesson 03: at sigma_w = 4 the measured ratio is far above 0.25^29, below the ratio bound."""
    cfg = gv.MLPConfig(depth=30, width=64, activation="sigmoid", init="lecun", weight_scale=4.0)
    d = gv.probe_mlp(cfg, seed=0, batch_size=128).activation_grad_norms
    b = gv.probes.ratio_bound(cfg)
    assert d[0] / d[-1] > 1e10 * b["slopes"]
    assert d[0] / d[-1] < b["ratio"]


@pytest.mark.parametrize("activation, init", [("tanh", "lecun"), ("relu", "he_normal")])
def test_bound_holds_over_seeds(activation, init):
    cfg = gv.MLPConfig(depth=12, width=32, activation=activation, init=init, weight_scale=1.5)
    for seed in range(5):
        d = gv.probe_mlp(cfg, seed=seed, batch_size=64).activation_grad_norms
        assert d[0] / d[-1] <= gv.probes.ratio_bound(cfg, seed=seed)["ratio"] * (1 + 1e-5)


def test_rejects_what_it_does_not_bound():
    with pytest.raises(ValueError, match="plain MLP"):
        gv.probes.ratio_bound(gv.MLPConfig(depth=4, residual=True))
    with pytest.raises(ValueError, match="MLPConfig"):
        gv.probes.ratio_bound("not a config")
