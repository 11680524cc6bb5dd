"""Self-normalising networks (Klambauer et al. 2017): SELU keeps mean 0 and variance 1.

.. math::
    \\mathrm{selu}(x) = \\lambda \\begin{cases} x & x > 0 \\\\ \\alpha (e^x - 1) & x \\le 0
    \\end{cases}, \\qquad \\lambda = 1.0507, \\; \\alpha = 1.6733

With weights of variance ``1/n`` (LeCun normal), the map that takes the mean and
variance of one layer's outputs to the next layer's has a stable fixed point at
``(0, 1)``: a deep SELU network normalises its own signal, no norm layer needed.
Standard dropout (keep with probability ``q = 1 - p``, divide by ``q``) raises the
variance and breaks the fixed point; *alpha dropout* sets dropped units to SELU's
negative saturation ``-lambda alpha`` and applies an affine map ``a x + b`` that restores
mean 0 and variance 1.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from gradviz import _checks, activations, init

LAMBDA, ALPHA = 1.0507009873554805, 1.6732632423543772  # the paper's constants
DROPOUTS = (None, "standard", "alpha")


def alpha_dropout(key, x, rate):
    """Klambauer et al.'s alpha dropout: mean 0 and variance 1 in, mean 0 and variance 1 out.

    .. math:: x' = a\\,(x\\,d + \\alpha'(1 - d)) + b, \\quad d \\sim \\mathrm{Bernoulli}(q),
        \\quad \\alpha' = -\\lambda\\alpha, \\quad a = (q + \\alpha'^2 q (1 - q))^{-1/2},
        \\quad b = -a (1 - q) \\alpha'
    """
    q = 1.0 - rate
    a_prime = -LAMBDA * ALPHA
    a = (q + a_prime**2 * q * (1 - q)) ** -0.5
    keep = jax.random.bernoulli(key, q, x.shape)
    return a * jnp.where(keep, x, a_prime) + (-a * (1 - q) * a_prime)


def standard_dropout(key, x, rate):
    """Inverted dropout: each unit kept with probability ``q = 1 - rate`` and divided by ``q``."""
    q = 1.0 - rate
    return jnp.where(jax.random.bernoulli(key, q, x.shape), x / q, 0.0)


def _no_dropout(key, x, rate):
    return x


_DROPOUTS = [_no_dropout, standard_dropout, alpha_dropout]


@functools.partial(jax.jit, static_argnames=("depth", "width", "batch"))
def _signal(key, act_index, init_index, weight_scale, dropout_index, rate, *, depth, width,
            batch):
    """Activation, init, scale, dropout kind and rate all traced: one compile per shape."""
    from gradviz.probes import _act

    k_x, k_w, k_d = jax.random.split(key, 3)
    (w,) = init.draw_stacks(init_index, [k_w], [(depth, width, width)])

    def layer(x, inputs):
        w_l, k_l = inputs
        x = _act(act_index, x @ (weight_scale * w_l))  # (batch, width)
        x = jax.lax.switch(dropout_index, _DROPOUTS, k_l, x, rate)
        return x, (jnp.mean(x), jnp.var(x))

    x0 = jax.random.normal(k_x, (batch, width))
    _, (means, variances) = jax.lax.scan(layer, x0, (w, jax.random.split(k_d, depth)))
    return means, variances


def signal_stats(activation: str = "selu", init_name: str = "lecun", *,
                 weight_scale: float = 1.0, depth: int = 100, width: int = 256,
                 batch: int = 512, dropout: str | None = None, rate: float = 0.1,
                 seed: int = 0) -> dict:
    """Mean and variance of each layer's output in a deep network fed ``N(0, 1)`` inputs.

    ``x_l = D(phi(x_{l-1} W_l))`` with ``W_l`` from ``init_name`` times ``weight_scale``
    (no biases) and ``D`` the optional dropout (``"standard"`` or ``"alpha"``, at
    ``rate``). Returns ``{"mean": (depth,), "var": (depth,)}`` (numpy).
    """
    _checks.one_of("activation", activation, activations.NAMES)
    _checks.one_of("init_name", init_name, init.NAMES)
    weight_scale = _checks.real("weight_scale", weight_scale, low=0.0)
    _checks.one_of("dropout", dropout, DROPOUTS)
    rate = _checks.real("rate", rate, low=0.0, high=0.9)
    means, variances = _signal(
        jax.random.PRNGKey(_checks.integer("seed", seed, low=0)),
        activations.NAMES.index(activation), init.NAMES.index(init_name), weight_scale,
        DROPOUTS.index(dropout), rate,
        depth=_checks.integer("depth", depth, low=1, high=10000),
        width=_checks.integer("width", width, low=1, high=8192),
        batch=_checks.integer("batch", batch, low=2))
    return {"mean": np.asarray(means), "var": np.asarray(variances)}
