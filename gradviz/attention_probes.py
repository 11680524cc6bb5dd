"""Per-block gradient norms of the stacked transformer (:mod:`gradviz.models.attention`).

The loss is the mean squared error of a linear readout of every token against
standard-normal targets. Two gradients are reported per block ``l``:

.. math:: \\Big\\|\\frac{\\partial L}{\\partial \\theta_l}\\Big\\| \\text{ (all of block } l
    \\text{'s weights)}, \\qquad
    \\Big\\|\\frac{\\partial L}{\\partial x_l}\\Big\\| \\text{ (the residual stream entering it)}

``dL/dx_l`` is the gradient with respect to a zero shift added to ``x_l``.

References:
    Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture",
    arXiv:2002.04745. Liu et al. 2020, "Understanding the Difficulty of Training
    Transformers", arXiv:2004.08249.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from gradviz import _cache, _checks
from gradviz._cache import FAST_COMPILE
from gradviz.models.attention import (
    NORMS,
    PLACEMENTS,
    TransformerConfig,
    _forward,
    init_transformer,
)

__all__ = ["TransformerProbeResult", "probe_transformer", "probe_transformer_stacked"]


def _loss(params, shifts, x, y, depth, placement_index, norm_index, heads, weight_scale):
    out, stats = _forward(params, x, depth, placement_index, norm_index, heads, weight_scale,
                          shifts)
    return jnp.mean((out - y) ** 2), stats


@functools.partial(jax.jit, static_argnames="heads", compiler_options=FAST_COMPILE)
def probe_transformer_stacked(params, x, y, depth, placement_index, norm_index=0,
                              weight_scale=1.0, *, heads=4):
    """Per-block statistics, every argument but the shapes and ``heads`` traced.

    Returns:
        dict: ``block_grad_norms``, ``stream_grad_norms``, ``stream_rms`` (the RMS of
        each block's input), ``down_grad_norms`` (``||dL/dW_down||`` of each block's second
        MLP matrix) and ``token_cosine`` (:func:`gradviz.models.attention.token_cosine` of
        each block's normalised input), each ``(max_depth,)`` with entries past ``depth``
        set to 0, and the scalar ``loss``. Gradients are with respect to the stored
        (unscaled) weights.
    """
    max_depth = params["blocks"]["qkv"].shape[0]
    shifts = jnp.zeros((max_depth, *x.shape), x.dtype)
    (loss, (rms, cosine)), (g, g_shift) = jax.value_and_grad(_loss, argnums=(0, 1), has_aux=True)(
        params, shifts, x, y, depth, placement_index, norm_index, heads, weight_scale)
    squares = sum(jnp.sum(leaf.reshape(max_depth, -1) ** 2, axis=1)
                  for leaf in jax.tree_util.tree_leaves(g["blocks"]))
    used = jnp.arange(max_depth) < depth
    return {"block_grad_norms": jnp.where(used, jnp.sqrt(squares), 0.0),
            "stream_grad_norms": jnp.where(used, jnp.sqrt(jnp.sum(g_shift**2, axis=(1, 2, 3))),
                                           0.0),
            "stream_rms": jnp.where(used, rms, 0.0),
            "down_grad_norms": jnp.where(
                used, jnp.sqrt(jnp.sum(g["blocks"]["down"] ** 2, axis=(1, 2))), 0.0),
            "token_cosine": jnp.where(used, cosine, 0.0), "loss": loss}


@dataclasses.dataclass(frozen=True)
class TransformerProbeResult:
    block_grad_norms: np.ndarray   # (depth,) ||dL/dtheta_l|| of block l's weights
    stream_grad_norms: np.ndarray  # (depth,) ||dL/dx_l|| of the stream entering block l
    stream_rms: np.ndarray         # (depth,) RMS of x_l
    loss: float


def bucket(depth: int) -> int:
    """Blocks to allocate for ``depth``: a power of two, at least 8 (shared compiles)."""
    return max(8, 1 << (depth - 1).bit_length())


def default_batch(cfg: TransformerConfig, seed: int, batch_size: int):
    """Standard-normal tokens ``(batch, seq, d_model)`` and targets ``(batch, seq, 1)``."""
    kx, ky = jax.random.split(jax.random.PRNGKey(seed + 1))
    return (_cache.normal(kx, (batch_size, cfg.seq_len, cfg.d_model)),
            _cache.normal(ky, (batch_size, cfg.seq_len, 1)))


def probe_transformer(cfg: TransformerConfig, seed: int = 0, batch_size: int = 8,
                      max_depth: int | None = None) -> TransformerProbeResult:
    """Per-block gradient norms of ``cfg``'s transformer at initialisation (weights from
    ``seed``). Weights are allocated for ``max_depth`` blocks (default :func:`bucket`), so
    every depth up to it shares one compiled program; the numbers do not depend on it."""
    if not isinstance(cfg, TransformerConfig):
        raise ValueError(f"cfg={cfg!r} must be a TransformerConfig")
    seed = _checks.integer("seed", seed, low=0)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    max_depth = bucket(cfg.depth) if max_depth is None else _checks.integer(
        "max_depth", max_depth, low=cfg.depth)
    params = init_transformer(cfg, jax.random.PRNGKey(seed), max_depth)
    x, y = default_batch(cfg, seed, batch_size)
    out = jax.device_get(probe_transformer_stacked(
        params, x, y, cfg.depth, PLACEMENTS.index(cfg.placement), NORMS.index(cfg.norm),
        cfg.weight_scale, heads=cfg.heads))
    d = cfg.depth
    return TransformerProbeResult(np.asarray(out["block_grad_norms"][:d]),
                                  np.asarray(out["stream_grad_norms"][:d]),
                                  np.asarray(out["stream_rms"][:d]), float(out["loss"]))


