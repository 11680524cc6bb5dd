"""Named activation functions (from ``jax.nn``), their derivatives and init gains.

Every name used anywhere in gradviz (configs, widgets, theory) is a key of
:data:`ACTIVATIONS`. The derivative is taken by forward-mode autodiff of the
same ``jax.nn`` function, so there is no hand-written formula to get wrong.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from gradviz import _checks

LEAKY_SLOPE = 0.01  # jax.nn.leaky_relu's default negative slope

ACTIVATIONS = {
    "linear": lambda x: x,
    "sigmoid": jax.nn.sigmoid,
    "tanh": jax.nn.tanh,
    "relu": jax.nn.relu,
    "leaky_relu": functools.partial(jax.nn.leaky_relu, negative_slope=LEAKY_SLOPE),
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "gelu": jax.nn.gelu,  # tanh approximation, jax.nn's default
    "silu": jax.nn.silu,
}
NAMES = tuple(ACTIVATIONS)

# Recommended weight gain g, used as Var(W) = g**2 / fan_in. linear, sigmoid, tanh,
# relu and leaky_relu follow the usual table (torch.nn.init.calculate_gain); selu
# uses 1 (LeCun normal, Klambauer et al. 2017). elu, gelu and silu have no agreed
# value: we use g = 1 / sqrt(E_z[phi'(z)**2]), z ~ N(0, 1), the gain that keeps the
# backward gain chi = 1 at unit pre-activation variance (a test recomputes it).
GAINS = {
    "linear": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "leaky_relu": math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2)),
    "elu": 1.2234,
    "selu": 1.0,
    "gelu": 1.4812,
    "silu": 1.6233,
}

# Bound gamma on |phi'(x)| over all x, used by vanishing-gradient bounds (0.25**L).
DERIVATIVE_BOUNDS = {
    "linear": 1.0, "sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0,
    "elu": 1.0, "selu": 1.0507 * 1.6733, "gelu": 1.129, "silu": 1.0998,
}


def get(name: str):
    """The activation ``phi`` called ``name`` (a ``jax.nn`` function)."""
    _checks.one_of("activation", name, NAMES)
    return ACTIVATIONS[name]


def derivative(name: str):
    """Elementwise derivative ``phi'(x)``, by a forward-mode product with ones.

    .. math:: \\phi'(x) = \\frac{d}{d\\epsilon} \\phi(x + \\epsilon)\\big|_{\\epsilon=0}
    """
    phi = get(name)

    def dphi(x):
        x = jnp.asarray(x)
        return jax.jvp(phi, (x,), (jnp.ones_like(x),))[1]

    return dphi


def gain(name: str) -> float:
    """Recommended init gain ``g`` for ``name``: use ``Var(W) = g**2 / fan_in``."""
    _checks.one_of("activation", name, NAMES)
    return GAINS[name]
