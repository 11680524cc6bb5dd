"""How the transformer's gradients at initialisation scale with depth, over many seeds.

For each depth ``L`` and placement, :func:`depth_sweep` measures, on every seed, the
gradient of the last block's second MLP matrix ``W_down`` (Xiong et al.'s ``W^{2,L}``),
``||dL/dx_{L-1}||`` (the stream entering the last block), the RMS of that stream, and how
alike the tokens of one sequence are when they reach the last block: the mean cosine
between two different tokens ``t != s`` of the (normalised) block input,

.. math:: \\bar c = \\frac{1}{T(T-1)} \\sum_{t \\ne s} \\frac{\\langle u_t, u_s \\rangle}
    {\\|u_t\\| \\|u_s\\|}, \\qquad u = N(x_{L-1}).

Why the last: Xiong et al. 2020 (Theorem 1) bound ``||dL/dW^{2,L}||`` at initialisation by
``O(d sqrt(ln d))`` for post-LN, whatever the depth, and by ``O(d sqrt(ln d / L))`` for
pre-LN, whose final norm divides by a residual stream that grows like ``sqrt(L)``. Their
analysis treats the tokens' hidden states as independent draws. When attention makes the
tokens of a sequence alike (``c -> 1``, the rank collapse of Dong et al. 2021), a weight
gradient, a sum over tokens ``sum_t a_t^T delta_t``, adds up coherently and grows by up to
``sqrt(T)``: that is what the bound leaves out. With ``seq_len = 1`` there is nothing to
collapse.

References:
    Xiong et al. 2020, arXiv:2002.04745. Dong, Cordonnier & Loukas 2021, "Attention is not
    all you need: pure attention loses rank doubly exponentially with depth",
    arXiv:2103.03404.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gradviz import _checks
from gradviz.models.attention import (
    PLACEMENTS,
    TransformerConfig,
    block,
    init_transformer,
    norm_layer,
)

__all__ = ["depth_sweep", "token_cosine"]


def token_cosine(x):
    """Mean cosine between different tokens of each sequence, averaged over the batch:
    ``x: (batch, seq, d) -> scalar`` (0 for independent random tokens, 1 when all alike;
    0 for ``seq = 1``, where no pair exists)."""
    u = x / jnp.linalg.norm(x, axis=-1, keepdims=True)  # (b, t, d)
    t = x.shape[1]
    if t < 2:
        return jnp.zeros((), x.dtype)
    gram = jnp.einsum("btd,bsd->bts", u, u)  # (b, t, t)
    return jnp.mean((jnp.sum(gram, axis=(1, 2)) - t) / (t * (t - 1)))


@functools.partial(jax.jit, static_argnames=("shape", "batch_size"))
def _sweep(seeds, depth, placement_index, *, shape, batch_size):
    cfg = TransformerConfig(**dict(shape))

    def one(seed):
        params = init_transformer(cfg, jax.random.PRNGKey(seed))
        kx, ky = jax.random.split(jax.random.PRNGKey(seed + 1))
        x = jax.random.normal(kx, (batch_size, cfg.seq_len, cfg.d_model))
        y = jax.random.normal(ky, (batch_size, cfg.seq_len, 1))
        shifts = jnp.zeros((cfg.depth, *x.shape))

        (_, (cos, rms)), (g, g_shift) = jax.value_and_grad(  # dL/d(shift_l) = dL/dx_l
            _loss_shifted, argnums=(0, 1), has_aux=True)(params, shifts, x, y, depth,
                                                         placement_index, cfg.heads)
        last = depth - 1
        return {"down_grad": jnp.linalg.norm(g["blocks"]["down"][last]),
                "stream_grad": jnp.linalg.norm(g_shift[last]),
                "stream_rms": rms[last], "token_cosine": cos[last]}

    return jax.vmap(one)(seeds)


def _loss_shifted(params, shifts, x, y, depth, placement_index, heads):
    """MSE of the readout with ``shifts[l]`` added to block ``l``'s input; aux: per block,
    the token cosine of ``N(x_l)`` and the RMS of ``x_l``."""
    def step(x, inputs):
        l, p, shift = inputs
        x = x + shift
        stats = (token_cosine(norm_layer(0, x)), jnp.sqrt(jnp.mean(x**2)))
        return lax.cond(l < depth, lambda x: block(p, x, placement_index, 0, heads),
                        lambda x: x, x), stats

    max_depth = params["blocks"]["qkv"].shape[0]
    x, stats = lax.scan(step, x, (jnp.arange(max_depth), params["blocks"], shifts))
    x = jnp.where(placement_index == 0, norm_layer(0, x), x)  # pre-LN's final norm
    return jnp.mean((x @ params["readout"] - y) ** 2), stats


def depth_sweep(depths=(2, 8, 32), *, seq_len: int = 16, seeds=range(10),
                batch_size: int = 4, d_model: int = 64, heads: int = 4) -> dict:
    """Medians over ``seeds`` of the last block's statistics, for each depth and placement.

    Every depth and both placements share one compiled program (weights drawn for
    ``max(depths)`` blocks; block ``l`` is the same draw at every depth, as in
    :func:`gradviz.probe_transformer`). Inputs and targets are standard normal, layer norm.

    Returns:
        ``{(placement, depth): {"down_grad", "stream_grad", "stream_rms", "token_cosine"}}``,
        each the median over seeds; ``result["per_seed"]`` holds the ``(n_seeds,)`` arrays.
    """
    depths = [_checks.integer("depth", d, low=1) for d in depths]
    if not depths:
        raise ValueError("depths is empty; give at least one depth, e.g. (2, 8, 32)")
    seq_len = _checks.integer("seq_len", seq_len, low=1)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    seeds = np.asarray([_checks.integer("seed", s, low=0) for s in seeds], np.int32)
    if seeds.size < 1:
        raise ValueError("seeds is empty; give at least 10, e.g. range(10)")
    shape = (("depth", max(depths)), ("d_model", d_model), ("heads", heads),
             ("seq_len", seq_len))
    TransformerConfig(**dict(shape))  # validates d_model, heads
    out, per_seed = {}, {}
    for placement in PLACEMENTS:
        for depth in depths:
            r = jax.device_get(_sweep(jnp.asarray(seeds), depth, PLACEMENTS.index(placement),
                                      shape=shape, batch_size=batch_size))
            per_seed[placement, depth] = {k: np.asarray(v) for k, v in r.items()}
            out[placement, depth] = {k: float(np.median(v)) for k, v in r.items()}
    out["per_seed"] = per_seed
    return out
