"""Lesson 10's claims about initialisation: symmetry, He et al. 2015, Glorot & Bengio 2010."""

import dataclasses

import jax
import numpy as np
import pytest

import gradviz as gv
from gradviz import init, theory
from gradviz.models.mlp import init_mlp


@pytest.mark.parametrize("optimizer, learning_rate, steps",
                         [("sgd", 0.5, 300), ("adam", 0.01, 100)])
def test_zeros_init_units_stay_equal_after_training(optimizer, learning_rate, steps):
    cfg = gv.MLPConfig(depth=3, width=16, activation="sigmoid", init="zeros")
    h = gv.train_mlp(cfg, optimizer=optimizer, learning_rate=learning_rate, steps=steps, seed=0)
    for layer in h.params[:-1]:
        w = np.asarray(layer["w"])
        assert np.linalg.norm(w) > 1e-3  # the weights moved ...
        np.testing.assert_allclose(w, w[:, :1].repeat(w.shape[1], axis=1), rtol=0, atol=1e-7)
        b = np.asarray(layer["b"])
        np.testing.assert_allclose(b, b[0], rtol=0, atol=1e-7)  # ... all units alike
    assert gv.probes.unit_spread(h.params).max() <= 1e-7
    random = gv.train_mlp(dataclasses.replace(cfg, init="lecun"), optimizer=optimizer,
                          learning_rate=learning_rate, steps=steps, seed=0)
    assert gv.probes.unit_spread(random.params).min() > 0.1


def test_unit_spread_is_the_largest_spread_across_units():
    params = [{"w": np.array([[0.0, 1.0, -2.0], [3.0, 3.0, 3.0]]), "b": np.array([0.5, 0.5, 1.0])},
              {"w": np.ones((3, 1)), "b": np.zeros(1)}]
    assert gv.probes.unit_spread(params).tolist() == [3.0]  # 1 - (-2); the bias spreads 0.5


def test_uniform_init_is_glorots_standard_heuristic():
    n = 400
    w = np.asarray(init.draw("uniform", jax.random.PRNGKey(0), n, 300))
    assert np.abs(w).max() <= 1 / np.sqrt(n)
    assert np.abs(w).max() > 0.99 / np.sqrt(n)
    assert w.var() == pytest.approx(1 / (3 * n), rel=0.02)
    assert init.sigma_w("uniform", n, 300) == pytest.approx(3 ** -0.5)


def test_preactivation_variance_matches_a_numpy_forward_pass():
    cfg = gv.MLPConfig(depth=6, width=32, activation="relu", init="he_normal", bias_scale=0.3)
    params = init_mlp(cfg, jax.random.PRNGKey(3))
    x = np.random.default_rng(0).standard_normal((64, cfg.in_dim)).astype(np.float32)
    pre_var = gv.probes.activation_stats(cfg, params=params, x=x)["pre_var"]
    a, expected = x.astype(np.float64), []
    for layer in params[:-1]:
        h = a @ np.asarray(layer["w"], np.float64) + np.asarray(layer["b"], np.float64)
        expected.append(h.var())
        a = np.maximum(h, 0.0)
    np.testing.assert_allclose(pre_var, expected, rtol=1e-4)


def test_variance_profile_closed_forms():
    np.testing.assert_allclose(theory.variance_profile("relu", 1.0, 0.0, 10, 2.0),
                               2.0 * 0.5 ** np.arange(10), rtol=1e-5)
    np.testing.assert_allclose(theory.variance_profile("linear", 1.2, 0.5, 5, 1.0)[1],
                               1.44 + 0.25, rtol=1e-5)
    q = theory.variance_profile("tanh", 1.5, 0.1, 4, 0.7)
    assert q[1] == pytest.approx(theory.q_map("tanh", 1.5, 0.1, 0.7), rel=1e-5)


def _signal_factor(cfg):
    q = gv.probes.activation_stats(cfg, seed=0, batch_size=256)["pre_var"]
    return (q[-1] / q[0]) ** (1 / (cfg.depth - 1))


def test_he_2015_one_over_n_halves_relu_variance_two_over_n_keeps_it():
    relu = dict(depth=30, width=256, activation="relu")
    assert _signal_factor(gv.MLPConfig(**relu, init="lecun")) == pytest.approx(0.5, abs=0.02)
    assert _signal_factor(gv.MLPConfig(**relu, init="he_normal")) == pytest.approx(1.0, abs=0.02)


def test_glorot_2010_standard_init_shrinks_both_ways_weight_gradients_level():
    cfg = gv.MLPConfig(depth=30, width=256, activation="tanh", init="uniform")
    act_var = gv.probes.activation_stats(cfg, seed=0, batch_size=256)["var"]
    r = gv.probe_mlp(cfg, seed=0, batch_size=256)
    d2, w2 = r.activation_grad_norms ** 2, r.weight_grad_norms ** 2
    assert (act_var[-1] / act_var[0]) ** (1 / 29) == pytest.approx(1 / 3, rel=0.05)
    assert (d2[0] / d2[-1]) ** (1 / 29) == pytest.approx(1 / 3, rel=0.05)
    assert act_var.max() / act_var.min() > 1e12 and d2.max() / d2.min() > 1e12
    assert w2.max() / w2.min() < 100  # the two trends cancel in dL/dW_l = x_{l-1}^T dL/dh_l
    normalised = gv.MLPConfig(depth=30, width=256, activation="tanh", init="xavier_uniform")
    assert _signal_factor(normalised) > 0.85


def test_orthogonal_linear_network_is_an_isometry():
    cfg = gv.MLPConfig(depth=50, width=64, activation="linear", init="orthogonal")
    s = gv.probes.jacobian_spectra(cfg, seed=0)["network"]
    np.testing.assert_allclose(s, 1.0, atol=1e-4)
    gauss = gv.probes.jacobian_spectra(dataclasses.replace(cfg, init="lecun"), seed=0)["network"]
    assert gauss.max() / gauss.min() > 100


def test_signal_explorer_shows_the_variance_map_prediction_for_relu():
    ex = gv.GradientExplorer(depth=20, max_depth=32, activation="relu", init="lecun", signal=True)
    q, predicted = ex.result["preactivation_vars"], ex.result["signal_prediction"]
    assert predicted[1] / predicted[0] == pytest.approx(0.5)
    assert (q[-1] / q[0]) ** (1 / 19) == pytest.approx(0.5, abs=0.05)
    ex.controls["init"].value = "zeros"  # all zero: data, no prediction, no crash
    assert ex.result["signal_prediction"] is None
    assert np.all(ex.result["preactivation_vars"] == 0)
    assert "exactly 0" in ex.signal_figure.layout.annotations[0].text


def test_check_uniform_relu_scale():
    assert gv.exercises.check_uniform_relu_scale(6 ** 0.5)
    assert not gv.exercises.check_uniform_relu_scale(1.0)
    assert not gv.exercises.check_uniform_relu_scale(2.6)
    assert not gv.exercises.check_uniform_relu_scale(None)
