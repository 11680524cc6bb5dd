"""SELU's self-normalising fixed point (Klambauer et al. 2017) and the activation explorer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradviz as gv
from gradviz import selfnorm


def test_selu_constants_are_the_papers():
    assert float(jax.nn.selu(1.0)) == pytest.approx(1.0507, abs=1e-4)
    assert float(jax.nn.selu(-60.0)) == pytest.approx(-1.0507 * 1.6733, abs=1e-3)
    assert selfnorm.LAMBDA == pytest.approx(1.0507, abs=1e-4)
    assert selfnorm.ALPHA == pytest.approx(1.6733, abs=1e-4)


def test_selu_keeps_mean_zero_and_variance_one_over_100_layers():
    s = selfnorm.signal_stats("selu", "lecun", depth=100, width=256, batch=256)
    assert np.abs(s["mean"]).max() < 0.1
    assert np.abs(s["var"] - 1).max() < 0.15
    tanh = selfnorm.signal_stats("tanh", "lecun", depth=100, width=256, batch=256)
    assert tanh["var"][-1] < 0.01  # the contrast: no fixed point at 1


def test_what_breaks_the_fixed_point_and_what_does_not():
    kw = dict(depth=100, width=256, batch=256)
    assert selfnorm.signal_stats(init_name="he_normal", **kw)["var"][-1] > 100
    assert selfnorm.signal_stats(dropout="standard", rate=0.1, **kw)["var"][-1] > 1.3
    alpha = selfnorm.signal_stats(dropout="alpha", rate=0.1, **kw)
    assert np.abs(alpha["var"] - 1).max() < 0.15 and np.abs(alpha["mean"]).max() < 0.1


def test_alpha_dropout_maps_mean_0_variance_1_to_mean_0_variance_1():
    x = jax.random.normal(jax.random.PRNGKey(0), (2_000_000,))
    for rate in (0.05, 0.1, 0.3):
        y = selfnorm.alpha_dropout(jax.random.PRNGKey(1), x, rate)
        assert float(jnp.mean(y)) == pytest.approx(0.0, abs=5e-3)
        assert float(jnp.var(y)) == pytest.approx(1.0, abs=5e-3)


def test_activation_explorer_expectations_match_monte_carlo():
    ex = gv.ActivationExplorer(activation="relu", sigma=2.0)
    assert ex.result["mean_sq_derivative"] == pytest.approx(0.5, abs=2e-3)
    assert ex.result["zero_fraction"] == pytest.approx(0.5, abs=2e-3)
    z = np.random.default_rng(0).standard_normal(1_000_000)
    for name, sigma in (("tanh", 1.0), ("gelu", 0.5), ("sigmoid", 3.0)):
        ex.controls["activation"].value = name
        ex.controls["sigma"].value = sigma
        d = np.asarray(gv.activations.derivative(name)(jnp.asarray(z * sigma, jnp.float32)))
        assert ex.result["mean_sq_derivative"] == pytest.approx(np.mean(d.astype(float) ** 2),
                                                                rel=1e-2)
    assert np.asarray(ex.figure.data[1].y).max() <= 0.25 + 1e-6  # sigmoid' shown, <= 1/4


def test_bad_selfnorm_arguments_are_clear_value_errors():
    with pytest.raises(ValueError, match="dropout"):
        selfnorm.signal_stats(dropout="gaussian")
    with pytest.raises(ValueError, match="rate"):
        selfnorm.signal_stats(dropout="alpha", rate=1.5)
