"""Mean-field predictions for deep random networks, and simple bounds.

For a layer with ``Var(W) = sigma_w**2 / fan_in`` and ``Var(b) = sigma_b**2``, the
pre-activation variance ``q_l`` and the backward gain ``chi`` obey (z ~ N(0, 1))

.. math::
    q_{l+1} = \\sigma_w^2\\, \\mathbb{E}[\\phi(\\sqrt{q_l} z)^2] + \\sigma_b^2, \\qquad
    \\chi(q) = \\sigma_w^2\\, \\mathbb{E}[\\phi'(\\sqrt{q} z)^2],

and ``E||dL/dh_l||^2 = chi(q_l) * E||dL/dh_{l+1}||^2``: gradients vanish when ``chi < 1``
and explode when ``chi > 1``. The expectations use Gauss-Hermite quadrature (numpy's
``hermegauss``); linear, (leaky) ReLU, ELU and SELU use their closed forms.

References:
    Poole et al. 2016, arXiv:1606.05340. Schoenholz et al. 2017, arXiv:1611.01232.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from numpy.polynomial.hermite_e import hermegauss

from gradviz import _checks, activations

_NODES, _WEIGHTS = hermegauss(200)            # even count: no node on the ReLU kink
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)  # E[f(z)] = sum(w * f(nodes))
_Q_MAX = 1e30                                 # variances beyond this count as infinite
_Q_MIN = 1e-30  # floor: at q = 0 exactly, relu'(0) = 0 would fake chi = 0 (the limit is 1/2)
_PROFILE_LEN = 128                            # profiles up to this depth share one compile

# Closed forms for positively homogeneous activations: E[phi(sqrt(q) z)^2] = a * q and
# E[phi'(sqrt(q) z)^2] = a, with a = (1 + slope**2) / 2 (slope 1 for linear, 0 for relu).
_HOMOGENEOUS = {"linear": 1.0, "relu": 0.5, "leaky_relu": (1 + activations.LEAKY_SLOPE**2) / 2}


def _check(activation, sigma_w, sigma_b):
    _checks.one_of("activation", activation, activations.NAMES)
    _checks.real("sigma_w", sigma_w, low=0.0)
    _checks.real("sigma_b", sigma_b, low=0.0)


# tanh and sigmoid change only for |u| < 24 (beyond, phi^2 is flat to 1e-20 and phi'^2 is
# below 1e-20). Once sqrt(q) is large, the Hermite nodes sqrt(q) z_i step over that region
# (at sigma_w = 10, tanh's chi came out 2.5 instead of 5.5), so for q > 1 both moments are
# summed on a grid in u = sqrt(q) z ~ N(0, q), plus the tails' mass times phi's limits
# (phi(-inf)^2, phi(inf)^2). The integrands are smooth, so the trapezoid rule with step
# 0.25 is already exact to float32 (a test checks it against a fine float64 grid).
_SATURATING = {"tanh": (1.0, 1.0), "sigmoid": (0.0, 1.0)}
_U = np.linspace(-24.0, 24.0, 193)  # (grid,), step 0.25


def _moments_of(f, limits):
    def moments(q):
        x = jnp.sqrt(q) * _NODES  # (nodes,)
        phi, dphi = jax.jvp(f, (x,), (jnp.ones_like(x),))
        m_phi, m_dphi = _WEIGHTS @ phi**2, _WEIGHTS @ dphi**2
        if limits is not None:  # q > 1: the Gaussian is smooth on the grid
            qg = jnp.maximum(q, 1.0)
            density = (_U[1] - _U[0]) * jnp.exp(-_U**2 / (2 * qg)) / jnp.sqrt(2 * jnp.pi * qg)
            phi, dphi = jax.jvp(f, (_U,), (jnp.ones_like(_U),))  # (grid,)
            tail = jax.scipy.special.ndtr(_U[0] / jnp.sqrt(qg))  # P(u < -24) = P(u > 24)
            grid_phi = jnp.sum(phi**2 * density) + (limits[0] + limits[1]) * tail
            m_phi = jnp.where(q > 1.0, grid_phi, m_phi)
            m_dphi = jnp.where(q > 1.0, jnp.sum(dphi**2 * density), m_dphi)
        return m_phi, m_dphi
    return moments


# ELU and SELU, phi(u) = scale * u for u > 0 and scale * alpha * (e^u - 1) below, have a kink
# in phi'^2 (SELU a jump: lambda^2 against (lambda alpha)^2) at 0, where Gauss-Hermite
# quadrature converges slowly: it gave SELU's chi(1) as 1.0665 against the true 1.0716, and
# ELU's 0.2-1.4% low. Both moments have closed forms: with u = sqrt(q) z,
#   E[e^{k u}; u < 0] = e^{k^2 q / 2} Phi(-k sqrt(q)) = erfcx(k sqrt(q / 2)) / 2,
# with the scaled complementary error function erfcx(x) = e^{x^2} erfc(x), so that large q
# neither overflows nor multiplies inf by 0.
_EXP_LINEAR = {"elu": (1.0, 1.0),                                   # jax.nn.elu's alpha
               "selu": (1.0507009873554805, 1.6732632423543772)}    # jax.nn.selu's


def _exp_linear_moments(scale, alpha):
    def moments(q):
        e2 = 0.5 * jax.scipy.special.erfcx(jnp.sqrt(2.0 * q))   # E[e^{2u}; u < 0]
        e1 = 0.5 * jax.scipy.special.erfcx(jnp.sqrt(0.5 * q))   # E[e^{u}; u < 0]
        a2 = (scale * alpha) ** 2
        m_phi = scale**2 * q / 2 + a2 * (e2 - 2.0 * e1 + 0.5)
        m_dphi = scale**2 / 2 + a2 * e2
        return m_phi, m_dphi
    return moments


_MOMENTS = [_exp_linear_moments(*_EXP_LINEAR[n]) if n in _EXP_LINEAR
            else _moments_of(activations.ACTIVATIONS[n], _SATURATING.get(n))
            for n in activations.NAMES]


def _moments(act_index, q):
    """``(E[phi(sqrt(q) z)**2], E[phi'(sqrt(q) z)**2])``, z ~ N(0, 1): Gauss-Hermite
    quadrature in z, and for tanh and sigmoid at ``q > 1`` the slope term on a grid in
    ``u = sqrt(q) z``."""
    return lax.switch(act_index, _MOMENTS, q)


@functools.partial(jax.jit, static_argnames="n")
def _iterate(act_index, sigma_w, sigma_b, q0, n):
    """``n`` steps of the variance map from ``q0``: ``(q_l, chi(q_l))``, each ``(n,)``."""
    def step(q, _):
        m_phi, m_dphi = _moments(act_index, q)
        q_next = jnp.clip(sigma_w**2 * m_phi + sigma_b**2, _Q_MIN, _Q_MAX)
        return q_next, (q, sigma_w**2 * m_dphi)

    _, (qs, chis) = lax.scan(step, jnp.clip(q0, _Q_MIN, _Q_MAX), None, length=n)
    return qs, chis


def _run(activation, sigma_w, sigma_b, q0, n):
    index = activations.NAMES.index(activation)
    qs, chis = _iterate(index, float(sigma_w), float(sigma_b), float(q0), n)
    return np.asarray(qs, dtype=np.float64), np.asarray(chis, dtype=np.float64)


def q_map(activation: str, sigma_w: float, sigma_b: float, q: float) -> float:
    """One step of the variance map ``q -> sigma_w**2 E[phi(sqrt(q) z)**2] + sigma_b**2``."""
    _check(activation, sigma_w, sigma_b)
    _checks.real("q", q, low=0.0)
    if activation in _HOMOGENEOUS:
        return sigma_w * sigma_w * _HOMOGENEOUS[activation] * q + sigma_b * sigma_b
    qs, _ = _run(activation, sigma_w, sigma_b, q, 2)
    return float(qs[1])


def q_star(activation: str, sigma_w: float, sigma_b: float = 0.0, *, q0: float = 1.0,
           steps: int = 2048) -> float:
    """Fixed point ``q*`` of :func:`q_map`, iterated ``steps`` times from ``q0``.

    Closed form for linear: ``q* = sigma_b**2 / (1 - sigma_w**2)`` when ``sigma_w < 1``
    (inf above); relu: the same with ``sigma_w**2 / 2``.
    """
    _check(activation, sigma_w, sigma_b)
    if activation in _HOMOGENEOUS:
        slope = sigma_w * sigma_w * _HOMOGENEOUS[activation]  # x * x: inf, where x**2 raises
        if slope < 1:
            return sigma_b * sigma_b / (1 - slope)
        return q0 if (slope == 1 and sigma_b == 0) else math.inf
    qs, _ = _run(activation, sigma_w, sigma_b, q0, steps)
    return math.inf if qs[-1] >= _Q_MAX else float(qs[-1])


def chi(activation: str, sigma_w: float, sigma_b: float = 0.0, *, q: float | None = None,
        q0: float = 1.0) -> float:
    """Mean-field per-layer gradient gain ``chi = sigma_w**2 E[phi'(sqrt(q) z)**2]``.

    ``q`` defaults to the fixed point :func:`q_star` reached by iterating the variance
    map from ``q0``, the pre-activation variance of the first layer (default 1: unit
    variance). Where the map has more than one basin, the starting point decides the
    answer. SiLU and GELU at their gains ``g``: from ``q0 = 1`` the variance falls to
    ``q -> 0``, where ``chi = g**2 phi'(0)**2`` (vanishing: 0.66 and 0.55), but a network fed
    unit-variance inputs has ``Var(h_0) = g**2``, from which the variance grows without
    bound (no finite ``q*``) and ``chi -> g**2 / 2`` (exploding: 1.32 and 1.10). Pass the
    network's own ``Var(h_0)`` as ``q0`` (for LeCun-scaled weights and unit inputs,
    ``sigma_w**2``); :func:`gradient_profile` follows the whole layer-by-layer path. An
    infinite ``q*`` is evaluated at ``q = 1e30``, the limit ``q -> inf``.
    Closed forms: linear ``sigma_w**2``; relu ``sigma_w**2 / 2`` (any ``q``).
    """
    _check(activation, sigma_w, sigma_b)
    _checks.real("q0", q0, low=0.0)
    if activation in _HOMOGENEOUS:
        return sigma_w * sigma_w * _HOMOGENEOUS[activation]
    if q is None:
        q = q_star(activation, sigma_w, sigma_b, q0=q0)
    _, chis = _run(activation, sigma_w, sigma_b, min(q, _Q_MAX), 1)
    return float(chis[0])


def gradient_profile(activation: str, sigma_w: float, sigma_b: float, depth: int,
                     q0: float) -> np.ndarray:
    """Predicted ``||dL/dh_l|| / ||dL/dh_{L-1}||`` for ``l = 0..depth-1``.

    Layer 0's pre-activation variance is ``q0``, then ``q_{l+1} = q_map(q_l)``. Going back
    from ``h_{l+1}`` to ``h_l`` multiplies the squared norm by ``chi(q_l)``, so

    .. math:: \\frac{\\|\\delta_l\\|}{\\|\\delta_{L-1}\\|} = \\prod_{k=l}^{L-2} \\sqrt{\\chi(q_k)}
    """
    _check(activation, sigma_w, sigma_b)
    depth = _checks.integer("depth", depth, low=1)
    _checks.real("q0", q0, low=0.0)
    n = max(_PROFILE_LEN, 1 << (depth - 1).bit_length())
    _, chis = _run(activation, sigma_w, sigma_b, q0, n)
    gains = np.sqrt(np.maximum(chis[: depth - 1], 0.0))
    # rel[l] = prod_{k=l}^{depth-2} gains[k], a reversed cumulative product.
    return np.append(np.cumprod(gains[::-1])[::-1], 1.0)


def variance_profile(activation: str, sigma_w: float, sigma_b: float, depth: int,
                     q0: float) -> np.ndarray:
    """Predicted pre-activation variances ``q_l = Var(h_l)`` for ``l = 0..depth-1``.

    .. math:: q_{l+1} = \\sigma_w^2\\, \\mathbb{E}_{z}[\\phi(\\sqrt{q_l}\\, z)^2] + \\sigma_b^2

    For ReLU without biases this is ``q_{l+1} = sigma_w**2 q_l / 2``: He et al. 2015's
    eq. (8), where ``Var(W) = 1/n`` (sigma_w = 1) halves the variance at every layer and
    ``2/n`` keeps it. Values are clipped to the map's range (1e-30 to 1e30).
    """
    _check(activation, sigma_w, sigma_b)
    depth = _checks.integer("depth", depth, low=1)
    _checks.real("q0", q0, low=0.0)
    n = max(_PROFILE_LEN, 1 << (depth - 1).bit_length())
    qs, _ = _run(activation, sigma_w, sigma_b, q0, n)
    return qs[:depth]


def relu_correlation(depth: int, c0: float = 0.0) -> np.ndarray:
    """Mean-field correlation ``c_l`` between two inputs' pre-activations in a ReLU network
    with He weights and no biases, for ``l = 0..depth-1`` (``c_0 = c0``):

    .. math:: c_{l+1} = \\frac{\\sqrt{1 - c_l^2} + (\\pi - \\arccos c_l)\\, c_l}{\\pi}

    the normalised arc-cosine kernel of degree 1. Its only fixed point is ``c = 1``, so a
    deep ReLU network maps all inputs toward one direction (and a unit that is off for one
    input is off for all: dead for the batch).

    References:
        Cho & Saul 2009, "Kernel methods for deep learning", NIPS.
    """
    depth = _checks.integer("depth", depth, low=1)
    c0 = _checks.real("c0", c0, low=-1.0, high=1.0)
    c = [c0]
    for _ in range(depth - 1):
        x = c[-1]
        c.append(min(1.0, (math.sqrt(max(0.0, 1.0 - x * x)) + (math.pi - math.acos(x)) * x)
                      / math.pi))
    return np.array(c)


def sigmoid_bound(depth: int) -> float:
    """Upper bound on a product of ``depth`` sigmoid derivatives: ``0.25**depth``."""
    return 0.25 ** _checks.integer("depth", depth, low=0)


def depth_scale(chi_value: float) -> float:
    """Depth over which the squared gradient changes by a factor ``e``: ``xi = -1 / ln(chi)``.

    Positive for ``chi < 1`` (vanishing: ``||delta_l||^2 ~ exp(-(L - l) / xi)``), negative
    for ``chi > 1`` (exploding), infinite at ``chi = 1``, the edge of chaos.

    References:
        Schoenholz et al. 2017, "Deep information propagation", arXiv:1611.01232.
    """
    chi_value = _checks.real("chi", chi_value, low=0.0)
    if chi_value == 1.0:
        return math.inf
    if chi_value == 0.0:
        return 0.0
    return -1.0 / math.log(chi_value)


CRITICAL_RTOL = 1e-6  # gamma * sigma_max within this of 1 counts as 1 (float32 rounding)


def rnn_regime(sigma_max: float, gamma: float) -> str:
    """What the largest singular value of the recurrent matrix says about BPTT.

    With ``|phi'| <= gamma``, each step back multiplies ``||dL/dh_t||`` by at most
    ``k = gamma * sigma_max``, so ``||dL/dh_{T-1-s}|| <= k**s ||dL/dh_{T-1}||``:

    * ``k < 1``: ``"vanishing guaranteed"`` (the bound decays geometrically; sufficient);
    * ``k = 1`` (within a relative ``CRITICAL_RTOL`` = 1e-6, so that a float32 orthogonal
      matrix's ``1.0000001`` counts): ``"bounded: cannot grow"`` (the gradient can never
      exceed its value at the last step, nor is it forced to decay);
    * ``k > 1``: ``"exploding possible"`` (necessary, not sufficient, for exploding ones).

    This is the largest *singular value*, not the spectral radius: the published text
    said eigenvalue, an erratum.

    References:
        Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural
        networks", arXiv:1211.5063.
    """
    sigma_max = _checks.real("sigma_max", sigma_max, low=0.0)
    gamma = _checks.real("gamma", gamma, low=0.0, inclusive=False)
    k = sigma_max * gamma
    if abs(k - 1.0) <= CRITICAL_RTOL:
        return "bounded: cannot grow"
    return "vanishing guaranteed" if k < 1 else "exploding possible"


def rnn_gradient_bound(sigma_max: float, gamma: float, steps: int) -> float:
    """Bound ``(gamma * sigma_max) ** steps`` on ``||dL/dh_{T-1-steps}|| / ||dL/dh_{T-1}||``."""
    sigma_max = _checks.real("sigma_max", sigma_max, low=0.0)
    gamma = _checks.real("gamma", gamma, low=0.0, inclusive=False)
    steps = _checks.integer("steps", steps, low=0)
    try:
        return (gamma * sigma_max) ** steps
    except OverflowError:  # Python floats raise where numpy would give inf
        return math.inf


@functools.partial(jax.jit, static_argnames="n")
def _chi_grid(act_index, sigma_ws, sigma_bs, n):
    def one(sigma_w, sigma_b):
        return _iterate(act_index, sigma_w, sigma_b, 1.0, n)[1][-1]
    return jax.vmap(lambda sb: jax.vmap(lambda sw: one(sw, sb))(sigma_ws))(sigma_bs)


def chi_grid(activation: str, sigma_ws, sigma_bs, *, steps: int = 256) -> np.ndarray:
    """``chi`` at the fixed point over a grid: ``out[i, j] = chi(activation, sigma_ws[j],
    sigma_bs[i])``, ``q*`` approximated by ``steps`` iterations of the variance map from 1.

    One compiled call for the whole grid (a phase diagram re-draws in milliseconds).
    """
    _checks.one_of("activation", activation, activations.NAMES)
    sw = np.asarray(sigma_ws, dtype=np.float32)
    sb = np.asarray(sigma_bs, dtype=np.float32)
    if sw.ndim != 1 or sb.ndim != 1 or not (np.all(np.isfinite(sw)) and np.all(sw >= 0)
                                            and np.all(np.isfinite(sb)) and np.all(sb >= 0)):
        raise ValueError("sigma_ws and sigma_bs must be 1-D arrays of finite values >= 0")
    steps = _checks.integer("steps", steps, low=1)
    out = _chi_grid(activations.NAMES.index(activation), sw, sb, steps)
    return np.asarray(out, dtype=np.float64)
