"""Mean-field theory against closed forms, Monte Carlo and measured deep networks."""

import math

import numpy as np
import pytest

import gradviz as gv
from gradviz import theory


@pytest.mark.parametrize("sigma_w", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("sigma_b", [0.0, 0.3])
def test_chi_closed_forms(sigma_w, sigma_b):
    assert theory.chi("linear", sigma_w, sigma_b) == pytest.approx(sigma_w**2, rel=1e-12)
    assert theory.chi("relu", sigma_w, sigma_b) == pytest.approx(sigma_w**2 / 2, rel=1e-12)


def test_quadrature_reproduces_relu_closed_form():
    """The generic quadrature path, run on relu, agrees with the closed form."""
    qs, chis = theory._run("relu", 1.3, 0.2, 0.7, 4)
    np.testing.assert_allclose(chis, 1.3**2 / 2, rtol=1e-5)
    np.testing.assert_allclose(qs[1], 1.3**2 * 0.7 / 2 + 0.2**2, rtol=1e-5)


def _monte_carlo(phi, dphi, sigma_w, q, n=2_000_000):
    z = np.random.default_rng(0).standard_normal(n) * math.sqrt(q)
    return sigma_w**2 * np.mean(phi(z) ** 2), sigma_w**2 * np.mean(dphi(z) ** 2)


@pytest.mark.parametrize("q", [0.3, 1.0, 4.0])
def test_chi_and_q_map_match_monte_carlo_tanh_sigmoid(q):
    def sig(z):
        return 1 / (1 + np.exp(-z))
    cases = {"tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
             "sigmoid": (sig, lambda z: sig(z) * (1 - sig(z)))}
    for name, (phi, dphi) in cases.items():
        mc_q, mc_chi = _monte_carlo(phi, dphi, 1.4, q)
        assert theory.chi(name, 1.4, 0.1, q=q) == pytest.approx(mc_chi, rel=5e-3)
        assert theory.q_map(name, 1.4, 0.1, q) == pytest.approx(mc_q + 0.01, rel=5e-3)


def test_q_star_is_a_fixed_point_and_matches_closed_form():
    q = theory.q_star("tanh", 1.5, 0.2)
    assert theory.q_map("tanh", 1.5, 0.2, q) == pytest.approx(q, rel=1e-5)
    assert theory.q_star("relu", 1.0, 0.5) == pytest.approx(0.25 / (1 - 0.5))
    assert theory.q_star("linear", 1.2, 0.0, q0=2.0) == math.inf


def test_edge_of_chaos_for_tanh():
    """tanh with sigma_b = 0: ordered (chi < 1) below sigma_w = 1, chaotic (chi > 1) above."""
    assert theory.chi("tanh", 0.9, 0.0) < 1 < theory.chi("tanh", 1.1, 0.0)


@pytest.mark.parametrize("activation,init,s", [("tanh", "lecun", 1.5), ("tanh", "lecun", 0.9),
                                               ("sigmoid", "lecun", 1.0),
                                               ("relu", "he_normal", 1.0)])
def test_gradient_profile_predicts_measured_wide_network(activation, init, s):
    cfg = gv.MLPConfig(depth=20, width=512, in_dim=512, activation=activation, init=init,
                       weight_scale=s)
    d = gv.probe_mlp(cfg, batch_size=64).activation_grad_norms
    sw = gv.init.sigma_w(init, 512, 512, weight_scale=s)
    rel = theory.gradient_profile(activation, sw, 0.0, cfg.depth, q0=sw**2)
    measured = d / d[-1]
    # Within 25% over 19 layers, in spans of 10^-6 (sigmoid) to 1: per layer about 1%.
    np.testing.assert_allclose(np.log(measured), np.log(rel), atol=math.log(1.25))


def test_sigmoid_bound():
    assert theory.sigmoid_bound(3) == 0.25**3
    sig = 1 / (1 + np.exp(-np.linspace(-10, 10, 10001)))
    assert np.max(sig * (1 - sig)) == pytest.approx(0.25)


def _mean_field_by_grid(phi, dphi, sigma_w, sigma_b, iterations=300):
    """q* and chi from the variance map on a fine grid in z (float64 numpy): a second method."""
    z = np.linspace(-12, 12, 400_001)
    weights = np.exp(-z * z / 2) / np.sqrt(2 * np.pi) * (z[1] - z[0])
    q = 1.0
    for _ in range(iterations):
        q = sigma_w**2 * np.sum(phi(np.sqrt(q) * z) ** 2 * weights) + sigma_b**2
    return q, sigma_w**2 * np.sum(dphi(np.sqrt(q) * z) ** 2 * weights)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("sigma_w, sigma_b", [(2.0, 0.0), (5.0, 0.0), (10.0, 0.5), (20.0, 0.0),
                                              (100.0, 1.0)])
def test_chi_of_saturating_activations_holds_deep_in_the_chaotic_phase(activation, sigma_w,
                                                                       sigma_b):
    """At large sigma_w, q* is large and sqrt(q*) z steps over the region where tanh' and
    sigmoid' live: with Hermite nodes alone, tanh's chi at sigma_w = 10 came out 2.5
    instead of 5.5. Both must match a fine-grid computation within 0.5%."""
    phi = {"tanh": np.tanh, "sigmoid": lambda x: 0.5 * (1 + np.tanh(x / 2))}[activation]
    dphi = {"tanh": lambda x: 1 - np.tanh(x) ** 2,
            "sigmoid": lambda x: phi(x) * (1 - phi(x))}[activation]
    q_ref, chi_ref = _mean_field_by_grid(phi, dphi, sigma_w, sigma_b)
    assert theory.q_star(activation, sigma_w, sigma_b) == pytest.approx(q_ref, rel=5e-3)
    assert theory.chi(activation, sigma_w, sigma_b) == pytest.approx(chi_ref, rel=5e-3)


def test_huge_weight_scales_give_inf_not_an_exception():
    """sigma_w**2 on a Python float raises OverflowError past 1.35e154; chi is infinite there."""
    for activation in ("linear", "relu", "tanh", "sigmoid", "selu"):
        assert theory.chi(activation, 1e155) == math.inf
    assert theory.q_star("relu", 1e155, 1e155) == math.inf
    assert theory.rnn_gradient_bound(2.0, 1.0, 5000) == math.inf
