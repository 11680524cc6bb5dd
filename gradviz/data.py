"""Small synthetic tasks, made in code from an explicit seed (nothing is downloaded).

``teacher_regression`` and ``two_spirals`` here; the long-range-dependency task,
:func:`adding_problem`, lives with the recurrent models and is re-exported.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from gradviz import _checks
from gradviz.models.rnn import ADDING_BASELINE_MSE, adding_problem

__all__ = ["ADDING_BASELINE_MSE", "adding_problem", "teacher_regression", "two_spirals"]


def teacher_regression(seed: int, n: int, in_dim: int = 16, out_dim: int = 1, *,
                       depth: int = 2, width: int = 32, noise: float = 0.0):
    """Inputs ``x ~ N(0, I)`` and targets from a random tanh "teacher" network.

    .. math:: y = \\tanh(\\tanh(x W_0) W_1 \\cdots) W_{\\mathrm{out}} + \\epsilon,
        \\qquad W \\sim \\mathcal{N}(0, 1/\\mathrm{fan\\_in}), \\quad
        \\epsilon \\sim \\mathcal{N}(0, \\mathrm{noise}^2)

    A student network of enough capacity can fit it exactly, so the loss it reaches
    measures optimisation, not the task's difficulty.

    Returns:
        ``x: (n, in_dim)`` and ``y: (n, out_dim)``, float32.
    """
    _checks.integer("seed", seed, low=0)
    n = _checks.integer("n", n, low=1)
    in_dim = _checks.integer("in_dim", in_dim, low=1)
    out_dim = _checks.integer("out_dim", out_dim, low=1)
    depth, width = _checks.integer("depth", depth, low=1), _checks.integer("width", width, low=1)
    noise = _checks.real("noise", noise, low=0.0)
    kx, kn, kw = jax.random.split(jax.random.PRNGKey(seed), 3)
    x = jax.random.normal(kx, (n, in_dim))  # (n, in_dim)
    h, fan_in = x, in_dim
    for k in jax.random.split(kw, depth):
        h = jnp.tanh(h @ (jax.random.normal(k, (fan_in, width)) / math.sqrt(fan_in)))
        fan_in = width
    w_out = jax.random.normal(jax.random.fold_in(kw, depth), (width, out_dim)) / math.sqrt(width)
    y = h @ w_out + noise * jax.random.normal(kn, (n, out_dim))  # (n, out_dim)
    return x, y


def two_spirals(seed: int, n: int, *, turns: float = 1.5, noise: float = 0.05):
    """Two interleaved spirals in the plane, labels ``+1`` and ``-1`` (regression targets).

    Point ``i`` of a spiral sits at radius ``r = t`` and angle ``2 pi turns t (+ pi for
    the second spiral)``, ``t ~ U(0.05, 1)``, plus Gaussian noise of std ``noise``.

    Returns:
        ``x: (n, 2)`` and ``y: (n, 1)`` with values in ``{-1, +1}``; half of each class.
    """
    _checks.integer("seed", seed, low=0)
    n = _checks.integer("n", n, low=2)
    turns = _checks.real("turns", turns, low=0.0, inclusive=False)
    noise = _checks.real("noise", noise, low=0.0)
    kt, kn = jax.random.split(jax.random.PRNGKey(seed))
    t = jax.random.uniform(kt, (n,), minval=0.05, maxval=1.0)  # (n,)
    label = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)  # (n,)
    angle = 2 * jnp.pi * turns * t + jnp.where(label > 0, 0.0, jnp.pi)
    x = jnp.stack([t * jnp.cos(angle), t * jnp.sin(angle)], axis=1)  # (n, 2)
    return x + noise * jax.random.normal(kn, (n, 2)), label[:, None]
