"""Mean-field theory against closed forms, Monte Carlo and measured deep networks."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special

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


# A second method for the fixed point: adaptive quadrature (scipy.integrate.quad) of the
# Gaussian expectations, and the fixed point q* = q_map(q*) by root finding (brentq) rather
# than by iterating the map.
def _gauss(f, q):
    """``E[f(sqrt(q) z)]``, z ~ N(0, 1), by adaptive quadrature in z."""
    s = math.sqrt(q)
    value = integrate.quad(lambda z: f(s * z) * math.exp(-z * z / 2), -40, 40, points=[0.0],
                           limit=200, epsabs=1e-13, epsrel=1e-11)[0]
    return value / math.sqrt(2 * math.pi)


def _mean_field_by_quad(phi, dphi, sigma_w, sigma_b, q_lo=1e-12):
    """(q*, chi(q*)) with q* the root of q_map(q) - q in [q_lo, sigma_w**2 + sigma_b**2 + 1]
    (phi bounded by 1, so q_map stays below sigma_w**2 + sigma_b**2)."""
    def excess(q):
        return sigma_w**2 * _gauss(lambda u: phi(u) ** 2, q) + sigma_b**2 - q
    q = optimize.brentq(excess, q_lo, sigma_w**2 + sigma_b**2 + 1, xtol=1e-13, rtol=1e-12)
    return q, sigma_w**2 * _gauss(lambda u: dphi(u) ** 2, q)


def _dsigmoid(x):
    return special.expit(x) * (1 - special.expit(x))


def _dtanh(x):
    return 1 / math.cosh(x) ** 2


def test_sigmoid_reaches_the_edge_of_chaos_near_sigma_w_10():
    """With sigma_b = 0, sigmoid's chi at q* is 0.79 at sigma_w = 8, 1.18 at 12 and crosses
    1 near 10.15: a large enough weight scale does rescue sigmoid (at the price of
    saturation). Both the shipped theory and the second method say so."""
    ref = {sw: _mean_field_by_quad(special.expit, _dsigmoid, sw, 0.0) for sw in (8.0, 12.0)}
    assert ref[8.0][1] == pytest.approx(0.7948, abs=1e-3)
    assert ref[12.0][1] == pytest.approx(1.1756, abs=1e-3)
    for sw, (q_ref, chi_ref) in ref.items():  # float32, trapezoid step 0.25: ~2e-4
        assert theory.q_star("sigmoid", sw, 0.0) == pytest.approx(q_ref, rel=5e-4)
        assert theory.chi("sigmoid", sw, 0.0) == pytest.approx(chi_ref, rel=5e-4)
    edge_ref = optimize.brentq(
        lambda sw: _mean_field_by_quad(special.expit, _dsigmoid, sw, 0.0)[1] - 1, 8, 12,
        xtol=1e-6)
    edge = optimize.brentq(lambda sw: theory.chi("sigmoid", sw, 0.0) - 1, 8, 12, xtol=1e-4)
    assert edge_ref == pytest.approx(10.149, abs=2e-3)
    assert edge == pytest.approx(edge_ref, abs=5e-3)


def test_tanh_edge_of_chaos_is_sigma_w_1_without_bias_and_sqrt2_needs_a_bias():
    # sigma_b = 0, sigma_w = 1: q* -> 0 (slowly, like 1/l) and chi -> tanh'(0)**2 = 1
    assert theory.chi("tanh", 1.0, 0.0) == pytest.approx(1.0, abs=1e-3)
    # sigma_w**2 = 2, sigma_b = 0 is chaotic: q* = 0.618, chi = 1.106 (q = 0 is an unstable
    # fixed point there, so the root is searched above it)
    q_ref, chi_ref = _mean_field_by_quad(math.tanh, _dtanh, math.sqrt(2), 0.0, q_lo=1e-3)
    assert (q_ref, chi_ref) == pytest.approx((0.6180, 1.1055), abs=1e-3)
    assert theory.q_star("tanh", math.sqrt(2), 0.0) == pytest.approx(q_ref, rel=1e-4)
    assert theory.chi("tanh", math.sqrt(2), 0.0) == pytest.approx(chi_ref, rel=1e-4)
    # sigma_w**2 = 2 is (nearly) critical only with sigma_b ~ 0.31: q* = 0.81, chi = 1.006
    q_ref, chi_ref = _mean_field_by_quad(math.tanh, _dtanh, math.sqrt(2), 0.31)
    assert (q_ref, chi_ref) == pytest.approx((0.8077, 1.0062), abs=1e-3)
    assert theory.q_star("tanh", math.sqrt(2), 0.31) == pytest.approx(q_ref, rel=1e-4)
    assert theory.chi("tanh", math.sqrt(2), 0.31) == pytest.approx(chi_ref, rel=1e-4)


def _silu(x):
    return x * special.expit(x)


def _dsilu(x):
    s = special.expit(x)
    return s * (1 + x * (1 - s))


def test_silu_and_gelu_chi_depend_on_the_starting_variance():
    """At their gains g, SiLU and GELU have two basins: from q0 = 1 the variance falls to 0
    (chi -> g**2 phi'(0)**2 = g**2 / 4, vanishing), from a network's own Var(h_0) = g**2
    it grows without bound (chi -> g**2 / 2, exploding). q0 picks the basin; the default
    (q0 = 1) keeps the values chi printed before q0 existed."""
    g = gv.activations.gain("silu")
    # second method: iterate the SiLU variance map by quadrature from both starts
    q_low, q_high = [1.0], [g * g]
    for _ in range(30):
        q_low.append(g * g * _gauss(lambda u: _silu(u) ** 2, q_low[-1]))
        q_high.append(g * g * _gauss(lambda u: _silu(u) ** 2, q_high[-1]))
    assert np.all(np.diff(q_low) < 0) and q_low[-1] < 1e-3
    assert np.all(np.diff(q_high) > 0) and q_high[-1] > 1e3  # no finite fixed point above
    assert q_high[-1] / q_high[-2] == pytest.approx(g * g / 2, rel=0.02)  # x chi per layer
    assert g * g * _gauss(lambda u: _dsilu(u) ** 2, 1e-12) == pytest.approx(g * g / 4, rel=1e-6)
    assert g * g * _gauss(lambda u: _dsilu(u) ** 2, 1e12) == pytest.approx(g * g / 2, rel=1e-4)

    assert theory.chi("silu", g) == pytest.approx(0.6587756, rel=1e-6)  # as before: q0 = 1
    assert theory.chi("silu", g, q0=1.0) == theory.chi("silu", g)
    assert theory.chi("silu", g, q0=g**2) == pytest.approx(g * g / 2, rel=1e-4)
    assert theory.chi("silu", g, q0=g**2) > 1
    assert theory.q_star("silu", g, 0.0, q0=g**2) == math.inf
    g = gv.activations.gain("gelu")
    assert theory.chi("gelu", g) == pytest.approx(0.5484883, rel=1e-6)
    assert theory.chi("gelu", g, q0=g**2) == pytest.approx(g * g / 2, rel=1e-4)
    assert theory.chi("gelu", g, q0=g**2) > 1


@pytest.mark.parametrize("activation,expected", [("tanh", 1.2098312), ("sigmoid", 0.0557207),
                                                 ("elu", 1.0308782), ("selu", 1.0715752)])
def test_chi_default_start_is_unchanged(activation, expected):
    """chi at each activation's gain, sigma_b = 0, as the lessons print it (q0 = 1)."""
    g = gv.activations.gain(activation)
    assert theory.chi(activation, g) == pytest.approx(expected, rel=1e-6)
    assert theory.chi(activation, g, q0=1.0) == theory.chi(activation, g)


def test_chi_q0_is_checked():
    with pytest.raises(ValueError, match="q0"):
        theory.chi("silu", 1.0, q0=-1.0)


def test_relu_correlation_map_matches_monte_carlo_and_tends_to_one():
    """One ReLU layer with He weights: the next pre-activations' correlation is
    E[relu(u) relu(v)] / E[relu(u)^2] for u, v ~ N(0, 1) with correlation c (Monte Carlo)."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    for c0 in (0.0, 0.5, 0.9, -0.5):
        u = rng.standard_normal(n)
        v = c0 * u + np.sqrt(1 - c0**2) * rng.standard_normal(n)
        a, b = np.maximum(u, 0), np.maximum(v, 0)
        assert abs(theory.relu_correlation(2, c0)[1] - np.mean(a * b) / np.mean(a * a)) < 3e-3
    c = theory.relu_correlation(200)
    assert c[0] == 0.0 and np.all(np.diff(c) >= 0) and 0.99 < c[-1] <= 1.0


_LAM, _ALPHA = 1.0507009873554805, 1.6732632423543772  # Klambauer et al. 2017


def _gelu(x):  # the tanh approximation, jax.nn.gelu's default
    return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _silu(x):
    return x * special.expit(x)


def _central(f, h=1e-6):
    return lambda x: (f(x + h) - f(x - h)) / (2 * h)


_REFERENCE = {  # (phi, phi') in float64, written out independently of jax.nn
    "tanh": (math.tanh, _dtanh), "sigmoid": (special.expit, _dsigmoid),
    "elu": (lambda x: x if x > 0 else math.expm1(x), lambda x: 1.0 if x > 0 else math.exp(x)),
    "selu": (lambda x: _LAM * (x if x > 0 else _ALPHA * math.expm1(x)),
             lambda x: _LAM if x > 0 else _LAM * _ALPHA * math.exp(x)),
    "gelu": (_gelu, _central(_gelu)), "silu": (_silu, _central(_silu)),
}


@pytest.mark.parametrize("activation", sorted(_REFERENCE))
@pytest.mark.parametrize("q", [0.01, 0.3, 1.0, 2.5, 30.0])
def test_both_moments_match_adaptive_quadrature(activation, q):
    """E[phi(sqrt(q) z)^2] and E[phi'(sqrt(q) z)^2] against scipy's adaptive quadrature,
    split at the kink. Gauss-Hermite on SELU's jump in phi' had put chi(1) at 1.0665
    instead of 1.0716 (and ELU's 0.2-1.4% low); they now use closed forms."""
    phi, dphi = _REFERENCE[activation]
    rel = 2e-3 if (activation == "gelu" and q > 2.5) else 1e-4  # float32, nodes spread by sqrt(q)
    second_moment = _gauss(lambda u: phi(u) ** 2, q)
    slope_moment = _gauss(lambda u: dphi(u) ** 2, q)
    assert theory.q_map(activation, 1.0, 0.0, q) == pytest.approx(second_moment, rel=rel)
    assert theory.chi(activation, 1.0, q=q) == pytest.approx(slope_moment, rel=rel)


def test_selu_and_elu_moments_stay_finite_at_huge_variance():
    """The closed forms use erfcx, so q = 1e30 gives the limits lambda^2 / 2 and 1/2, not nan."""
    assert theory.chi("selu", 1.0, q=1e30) == pytest.approx(_LAM**2 / 2, rel=1e-5)
    assert theory.chi("elu", 1.0, q=1e30) == pytest.approx(0.5, rel=1e-5)


def test_selu_profile_approaches_the_mean_field_when_wide():
    """Lesson 09: at width 64 SELU's measured first/last ratio (median of 10 draws) sits above
    the mean-field prediction; the prediction is for infinite width. At width 1024 it must
    fall inside the 10th-90th percentile range of 10 draws, within 10% of the median."""
    predicted = theory.gradient_profile("selu", 1.0, 0.0, 50, q0=1.0)[0]
    cfg = gv.MLPConfig(depth=50, width=1024, activation="selu", init="lecun")
    measured = gv.spread(gv.probe_seeds(cfg, seeds=range(10), batch_size=16).ratio)
    assert measured.low <= predicted <= measured.high
    assert measured.median == pytest.approx(predicted, rel=0.1)
