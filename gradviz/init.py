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
import numpy as np
from jax import lax

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


def _uniform(bits, minval, maxval):
    """``jax.random.uniform(key, minval=minval, maxval=maxval)`` from the 32 bits it draws,
    ``jax.random.bits(key)``: jax's own conversion, the mantissa bits under exponent 0 give
    a float in [1, 2), minus 1, stretched to ``[minval, maxval)``."""
    mantissa = lax.shift_right_logical(bits, jnp.uint32(32 - 23))
    f = lax.bitcast_convert_type(lax.bitwise_or(mantissa, jnp.uint32(0x3F800000)), jnp.float32)
    minval, maxval = jnp.float32(minval), jnp.float32(maxval)
    return lax.max(minval, (f - jnp.float32(1.0)) * (maxval - minval) + minval)


def _normal(bits):
    """``jax.random.normal`` from its bits: ``sqrt(2) erfinv(u)``, u uniform on (-1, 1)."""
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0), dtype=np.float32)
    return np.float32(np.sqrt(2)) * lax.erf_inv(_uniform(bits, lo, 1.0))


def _truncated_normal(bits):
    """``jax.random.truncated_normal(key, -2, 2)`` from its bits: u uniform between
    erf(-sqrt 2) and erf(sqrt 2), ``sqrt(2) erfinv(u)``, clamped inside (-2, 2)."""
    sqrt2 = np.float32(np.sqrt(2))
    lower, upper = jnp.float32(-2.0), jnp.float32(2.0)
    out = sqrt2 * lax.erf_inv(_uniform(bits, lax.erf(lower / sqrt2), lax.erf(upper / sqrt2)))
    return jnp.clip(out, lax.nextafter(lower, jnp.float32(np.inf)),
                    lax.nextafter(upper, jnp.float32(-np.inf)))


# the jax.nn variance-scaling schemes: (scale, fan mode, distribution)
_SCALING = {"lecun": (1.0, "fan_in", "truncated"),
            "xavier_normal": (1.0, "fan_avg", "truncated"),
            "he_normal": (2.0, "fan_in", "truncated"),
            "xavier_uniform": (1.0, "fan_avg", "uniform"),
            "he_uniform": (2.0, "fan_in", "uniform"),
            "uniform": (1 / 3, "fan_in", "uniform")}


def _from_bits(name, bits, std):
    """The matrix ``INITIALIZERS[name](std)(key, bits.shape)`` from ``bits =
    jax.random.bits(key, bits.shape)``, by the same float32 operations as jax.nn's code."""
    fan_in, fan_out = bits.shape
    if name == "zeros":
        return jnp.zeros(bits.shape, jnp.float32)
    if name == "normal":
        return _normal(bits) * jnp.asarray(std, jnp.float32)
    if name == "orthogonal":  # jax.random.orthogonal: QR of a normal matrix, signs fixed by R
        z = _normal(bits.reshape(max(fan_in, fan_out), min(fan_in, fan_out)))
        q, r = jnp.linalg.qr(z)
        q = q * jnp.sign(jnp.diagonal(r))[None, :]
        return jnp.float32(1.0) * (q.T if fan_in < fan_out else q)
    scale, mode, dist = _SCALING[name]
    variance = jnp.float32(scale / (fan_in if mode == "fan_in" else (fan_in + fan_out) / 2))
    if dist == "truncated":  # 0.8796... is the std of a standard normal cut at +-2
        return _truncated_normal(bits) * (jnp.sqrt(variance) / jnp.float32(.87962566103423978))
    return _uniform(bits, -1.0, 1.0) * jnp.sqrt(3 * variance)


def draw_stacks(index, keys, shapes, *, std=0.01, dtype=jnp.float32) -> tuple:
    """Stacks of matrices of scheme ``NAMES[index]``: one ``(n, fan_in, fan_out)`` per shape.

    Args:
        index: into :data:`NAMES`; may be traced: the scheme is picked by ``lax.switch``, so
            one compiled function serves every scheme (the widgets never recompile).
        keys: one PRNG key per stack.
        shapes: ``[(n, fan_in, fan_out), ...]``.

    Matrix ``i`` of a stack is drawn from ``fold_in(key, i)``: the same matrix whatever
    ``n`` is asked for, and the same, bit for bit, as the scheme's jax.nn initializer
    called with that key (tests/test_activations_init.py). Every jax.nn scheme turns the
    same 32 random bits per entry into its numbers, so the bits are drawn once, for every
    matrix of every stack in one threefry call (threefry's bits depend on the flat index
    only, so a matrix's bits are the first ``fan_in * fan_out`` of a longer draw), and each
    branch of the switch only converts them. Compiled at -O1 (first layer, 31 hidden, readout)
    that took 0.9-1.1 s against 1.4 s for a switch over the nine jax.nn calls, each with its
    own threefry, at width 64, and 1.2-1.3 s against 1.7 s at width 256 (2-core CPU).
    """
    if dtype != jnp.float32:
        raise ValueError(f"dtype={dtype!r}: draw_stacks draws jnp.float32 only")
    size = max(fi * fo for _, fi, fo in shapes)
    layer_keys = jnp.concatenate([jax.vmap(lambda i, k=k: jax.random.fold_in(k, i))(jnp.arange(n))
                                  for k, (n, _, _) in zip(keys, shapes, strict=True)])
    bits = jax.vmap(lambda k: jax.random.bits(k, (size,), jnp.uint32))(layer_keys)  # (layers, size)
    starts = np.cumsum([0] + [n for n, _, _ in shapes])
    stacks = [bits[a:a + n, :fi * fo].reshape(n, fi, fo)
              for a, (n, fi, fo) in zip(starts, shapes, strict=False)]

    def branch(name):
        return lambda stacks: tuple(jax.vmap(lambda b: _from_bits(name, b, std))(s)
                                    for s in stacks)

    return lax.switch(index, [branch(name) for name in NAMES], stacks)


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
