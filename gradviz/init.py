"""Weight initialisation schemes (``jax.nn.initializers``), each times a weight scale.

A layer with ``fan_in`` inputs and ``fan_out`` outputs draws ``W = s * W0`` with
``s = weight_scale`` and ``W0`` from the named scheme:

=================  ==========================================  =====================
name               W0                                          Var(W0)
=================  ==========================================  =====================
``zeros``          0                                           0
``normal``         N(0, std**2)                                std**2
``lecun``          truncated normal (jax.nn ``lecun_normal``)  1 / fan_in
``xavier_normal``  truncated normal (``glorot_normal``)        2 / (fan_in + fan_out)
``xavier_uniform`` U(-a, a) (``glorot_uniform``)               2 / (fan_in + fan_out)
``he_normal``      truncated normal (``he_normal``)            2 / fan_in
``he_uniform``     U(-a, a) (``he_uniform``)                   2 / fan_in
``orthogonal``     Q of a QR decomposition (``orthogonal``)    1 / max(fan_in, fan_out)
``uniform``        U(-1/sqrt(fan_in), 1/sqrt(fan_in))          1 / (3 fan_in)
=================  ==========================================  =====================

``uniform`` is the "commonly used heuristic" that Glorot & Bengio 2010 call the standard
initialisation (their eq. 1), drawn by ``variance_scaling(1/3, "fan_in", "uniform")``.

So ``init="lecun"`` gives ``Var(W) = weight_scale**2 / fan_in``, the mean-field
``sigma_w = weight_scale``.

References:
    LeCun et al. 1998, "Efficient BackProp". Glorot & Bengio 2010, "Understanding the
    difficulty of training deep feedforward neural networks". He et al. 2015,
    arXiv:1502.01852. Saxe et al. 2013, arXiv:1312.6120 (orthogonal).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from gradviz import _checks

_I = jax.nn.initializers
INITIALIZERS = {
    "zeros": lambda std: _I.zeros,
    "normal": lambda std: _I.normal(stddev=std),
    "lecun": lambda std: _I.lecun_normal(),
    "xavier_normal": lambda std: _I.glorot_normal(),
    "xavier_uniform": lambda std: _I.glorot_uniform(),
    "he_normal": lambda std: _I.he_normal(),
    "he_uniform": lambda std: _I.he_uniform(),
    "orthogonal": lambda std: _I.orthogonal(),
    "uniform": lambda std: _I.variance_scaling(1 / 3, "fan_in", "uniform"),
}
NAMES = tuple(INITIALIZERS)


def draw(name: str, key, fan_in: int, fan_out: int, *, weight_scale=1.0, std=0.01,
         dtype=jnp.float32):
    """One weight matrix ``W = weight_scale * W0``, shape ``(fan_in, fan_out)``.

    ``std`` is used by ``"normal"`` only. ``weight_scale`` may be a traced value.
    """
    _checks.one_of("init", name, NAMES)
    w0 = INITIALIZERS[name](std)(key, (fan_in, fan_out), dtype)  # (fan_in, fan_out)
    return weight_scale * w0


def draw_stacks(index, keys, shapes, *, std=0.01, dtype=jnp.float32) -> tuple:
    """Stacks of matrices of scheme ``NAMES[index]``: one ``(n, fan_in, fan_out)`` per shape.

    Args:
        index: into :data:`NAMES`; may be traced: the scheme is picked by ``lax.switch``, so
            one compiled function serves every scheme (the widgets never recompile).
        keys: one PRNG key per stack.
        shapes: ``[(n, fan_in, fan_out), ...]``.

    Matrix ``i`` of a stack is drawn from ``fold_in(key, i)``: the same matrix whatever
    ``n`` is asked for.
    """
    layer_keys = [jax.vmap(lambda i, k=k: jax.random.fold_in(k, i))(jnp.arange(n))
                  for k, (n, _, _) in zip(keys, shapes, strict=True)]

    def branch(name):
        def draw_all(all_keys):
            return tuple(
                jax.vmap(lambda k, fi=fi, fo=fo: INITIALIZERS[name](std)(k, (fi, fo), dtype))(ks)
                for ks, (_, fi, fo) in zip(all_keys, shapes, strict=True))
        return draw_all

    return jax.lax.switch(index, [branch(n) for n in NAMES], layer_keys)


def sigma_w(name: str, fan_in: int, fan_out: int, *, weight_scale=1.0, std=0.01) -> float:
    """Mean-field weight scale ``sigma_w = sqrt(fan_in * Var(W))`` of a scheme.

    .. math:: \\sigma_w^2 = \\mathrm{fan\\_in} \\cdot \\mathrm{Var}(W_{ij})
    """
    _checks.one_of("init", name, NAMES)
    var0 = {
        "zeros": 0.0,
        "normal": std**2,
        "lecun": 1.0 / fan_in,
        "xavier_normal": 2.0 / (fan_in + fan_out),
        "xavier_uniform": 2.0 / (fan_in + fan_out),
        "he_normal": 2.0 / fan_in,
        "he_uniform": 2.0 / fan_in,
        "orthogonal": 1.0 / max(fan_in, fan_out),
        "uniform": 1.0 / (3 * fan_in),
    }[name]
    return float(weight_scale) * math.sqrt(fan_in * var0)
