"""A small transformer: ``depth`` blocks of self-attention + MLP, layer norm pre or post.

Each block has two residual branches, attention ``A`` and an MLP ``M``, and a
normalisation ``N`` (layer norm or RMSNorm, :func:`gradviz.models.mlp.normalize`):

.. math::
    \\text{post-LN (Vaswani et al. 2017):}\\quad
        x \\leftarrow N(x + A(x)), \\quad x \\leftarrow N(x + M(x))

    \\text{pre-LN (Xiong et al. 2020, GPT-2):}\\quad
        x \\leftarrow x + A(N(x)), \\quad x \\leftarrow x + M(N(x))

with a final ``N`` after the last pre-LN block, then a linear readout. ``A`` is multi-head
scaled dot-product attention (``jax.nn.dot_product_attention``, no mask) with an output
projection; ``M(x) = gelu(x W_1 + b_1) W_2 + b_2``. Weights are Xavier normal times
``weight_scale``; biases start at 0.

In post-LN the only path from the loss to block ``l`` passes through every later norm; in
pre-LN the residual stream ``x`` reaches every block untouched. Xiong et al. 2020
(arXiv:2002.04745, Theorem 1) bound the last block's ``W_down`` gradient at
initialisation by ``O(d sqrt(ln d))`` for post-LN, whatever the depth, and by
``O(d sqrt(ln d / L))`` for pre-LN, treating the tokens' states as independent. This
small model reproduces that only in part (measured by :mod:`gradviz.attention_depth`,
lesson 11): pre-LN's stream gradient falls like ``1/sqrt(L)``, and with one token per
sequence the ``W_down`` gradients follow the bound's depth scaling; with 16 tokens,
attention makes a sequence's tokens alike as depth grows (rank collapse, Dong et al. 2021),
the weight gradients' sums over tokens add up coherently, and post-LN's last-block
gradient grows about fourfold from 2 to 32 blocks instead of staying level.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
from jax import lax

from gradviz import _checks
from gradviz._cache import fast_on_host
from gradviz.models.mlp import EPS

PLACEMENTS = ("pre", "post")
# LLVM's -O1 (gradviz._cache.FAST_COMPILE) compiles the scanned, differentiated stacks of
# the transformer about 2.5x faster on a CPU, with the same results and no slower runs here
# (lesson 11, cold: 16 s of compile against 6 s).
NORMS = ("layer", "rms")


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    """Frozen, hashable description of the stacked transformer; validated on construction."""

    depth: int = 12             # number of blocks
    d_model: int = 64           # width of the residual stream
    heads: int = 4              # attention heads; d_model must be a multiple
    seq_len: int = 16           # tokens per sequence
    mlp_ratio: int = 4          # hidden width of the MLP is mlp_ratio * d_model
    placement: str = "pre"      # "pre" or "post": where the norm sits
    norm: str = "layer"         # "layer" or "rms"
    weight_scale: float = 1.0   # every weight is weight_scale * Xavier normal

    def __post_init__(self):
        _checks.integer("depth", self.depth, low=1)
        _checks.integer("d_model", self.d_model, low=1)
        _checks.integer("heads", self.heads, low=1)
        if self.d_model % self.heads:
            raise ValueError(f"d_model={self.d_model!r} must be a multiple of "
                             f"heads={self.heads!r}")
        _checks.integer("seq_len", self.seq_len, low=1)
        _checks.integer("mlp_ratio", self.mlp_ratio, low=1)
        _checks.one_of("placement", self.placement, PLACEMENTS)
        _checks.one_of("norm", self.norm, NORMS)
        _checks.real("weight_scale", self.weight_scale, low=0.0)


def init_transformer(cfg: TransformerConfig, key, max_depth: int | None = None) -> dict:
    """Stacked parameters: every block array has a leading axis of ``max_depth`` (default
    ``cfg.depth``); block ``l`` is the same whatever ``max_depth`` is (drawn from
    ``fold_in(key, l)``). Weights are at ``weight_scale = 1``: apply multiplies them."""
    max_depth = cfg.depth if max_depth is None else _checks.integer(
        "max_depth", max_depth, low=cfg.depth)
    return _init(key, d=cfg.d_model, m=cfg.mlp_ratio * cfg.d_model, max_depth=max_depth)


@functools.partial(fast_on_host, static_argnames=("d", "m", "max_depth"))
def _init(key, *, d, m, max_depth):
    """The draw of :func:`init_transformer`, one compiled call (eagerly, each of its dozens
    of small ops would compile on its own)."""
    xavier = jax.nn.initializers.glorot_normal()

    def block(k):
        kq, kp, ku, kd = jax.random.split(k, 4)
        return {"qkv": xavier(kq, (d, 3 * d)), "proj": xavier(kp, (d, d)),
                "up": xavier(ku, (d, m)), "b_up": jnp.zeros((m,)),
                "down": xavier(kd, (m, d)), "b_down": jnp.zeros((d,))}

    k_blocks, k_out = jax.random.split(key)
    keys = jax.vmap(lambda i: jax.random.fold_in(k_blocks, i))(jnp.arange(max_depth))
    return {"blocks": jax.vmap(block)(keys), "readout": xavier(k_out, (d, 1))}


def attention(p: dict, x, heads: int):
    """Multi-head self-attention of ``x: (batch, seq, d)``, then the output projection.

    .. math:: A(x) = \\mathrm{concat}_h\\,
        \\mathrm{softmax}\\big(Q_h K_h^\\top / \\sqrt{d_h}\\big) V_h \\; W_O,
        \\qquad [Q, K, V] = x W_{QKV}
    """
    b, t, d = x.shape
    q, k, v = jnp.split(x @ p["qkv"], 3, axis=-1)  # each (b, t, d)
    split = lambda a: a.reshape(b, t, heads, d // heads)  # noqa: E731
    out = jax.nn.dot_product_attention(split(q), split(k), split(v))  # (b, t, heads, d_h)
    return out.reshape(b, t, d) @ p["proj"]


def mlp(p: dict, x):
    """``M(x) = gelu(x W_1 + b_1) W_2 + b_2``."""
    return jax.nn.gelu(x @ p["up"] + p["b_up"]) @ p["down"] + p["b_down"]


def norm_layer(norm_index, x):
    """``normalize(NORMS[norm_index], x)`` over the last axis; ``norm_index`` may be traced.

    Branch-free: ``c = [norm_index == 0]`` (layer norm), ``x_c = x - c mean(x)`` and
    ``x_c / sqrt(mean(x_c^2) + eps)``, which is layer norm for ``c = 1`` and RMSNorm for
    ``c = 0``. Plain arithmetic rather than ``lax.switch``: conditionals inside the scanned,
    differentiated, seed-mapped stack multiply XLA's compile time.
    """
    centre = (jnp.asarray(norm_index) == NORMS.index("layer")).astype(x.dtype)
    xc = x - centre * jnp.mean(x, axis=-1, keepdims=True)
    return xc * lax.rsqrt(jnp.mean(xc**2, axis=-1, keepdims=True) + EPS)


def block(p: dict, x, placement_index, norm_index, heads: int):
    """One block; ``placement_index`` (into :data:`PLACEMENTS`) and ``norm_index`` (into
    :data:`NORMS`) may be traced.

    Both placements are one residual step ``y = x + F(u)``: pre-LN feeds the branch
    ``u = N(x)`` and keeps ``y``; post-LN feeds ``u = x`` and keeps ``N(y)``. The choice is a
    ``jnp.where`` on the cheap norms, not a branch, so the expensive ``F`` is traced once.
    """
    pre = jnp.asarray(placement_index) == PLACEMENTS.index("pre")

    def n(x):
        return norm_layer(norm_index, x)

    def residual(x, f):
        y = x + f(jnp.where(pre, n(x), x))
        return jnp.where(pre, y, n(y))

    x = residual(x, lambda u: attention(p, u, heads))
    return residual(x, lambda u: mlp(p, u))


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


def _forward(params, x, depth, placement_index, norm_index, heads, weight_scale, shifts):
    """The output and, per block (``(max_depth,)`` each), the RMS of its input ``x_l`` and
    the :func:`token_cosine` of ``N(x_l)``."""
    blocks = jax.tree_util.tree_map(
        lambda a: a * weight_scale if a.ndim == 3 else a, params["blocks"])

    def step(x, inputs):
        l, p, shift = inputs
        x = x + shift
        stats = (jnp.sqrt(jnp.mean(x**2)), token_cosine(norm_layer(norm_index, x)))
        # lax.cond: blocks past ``depth`` cost nothing (not even in the backward pass)
        return lax.cond(l < depth, lambda x: block(p, x, placement_index, norm_index, heads),
                        lambda x: x, x), stats

    max_depth = blocks["qkv"].shape[0]
    x, stats = lax.scan(step, x, (jnp.arange(max_depth), blocks, shifts))
    x = jnp.where(placement_index == 0, norm_layer(norm_index, x), x)  # pre-LN's final norm
    return x @ (weight_scale * params["readout"]), stats


def apply_transformer(params: dict, x, depth, placement_index, norm_index, heads: int,
                      weight_scale=1.0, shifts=None):
    """Output ``(batch, seq, 1)`` of the first ``depth`` blocks, then the readout.

    ``depth``, ``placement_index``, ``norm_index`` and ``weight_scale`` may be traced
    (blocks at or past ``depth`` pass ``x`` through). ``shifts: (max_depth, batch, seq, d)``,
    zeros by default, is added to each block's input: the gradient with respect to it is
    ``dL/dx_l``.
    """
    if shifts is None:
        shifts = jnp.zeros((params["blocks"]["qkv"].shape[0], *x.shape), x.dtype)
    return _forward(params, x, depth, placement_index, norm_index, heads, weight_scale,
                    shifts)[0]
