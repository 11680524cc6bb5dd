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

import jax
import numpy as np

from gradviz import _checks
from gradviz.attention_probes import default_batch, probe_transformer_stacked
from gradviz.models.attention import PLACEMENTS, TransformerConfig, init_transformer, token_cosine

__all__ = ["depth_sweep", "token_cosine"]

_KEYS = {"down_grad": "down_grad_norms", "stream_grad": "stream_grad_norms",
         "stream_rms": "stream_rms", "token_cosine": "token_cosine"}


def depth_sweep(depths=(2, 8, 32), *, seq_len: int = 16, seeds=range(10),
                batch_size: int = 4, d_model: int = 64, heads: int = 4) -> dict:
    """Medians over ``seeds`` of the last block's statistics, for each depth and placement.

    Each seed is :func:`gradviz.probe_transformer`'s network and batch (weights drawn for
    ``max(depths)`` blocks; block ``l`` is the same draw at every depth), run through
    :func:`gradviz.attention_probes.probe_transformer_stacked`, where depth and placement
    are traced: the whole sweep compiles one program, the very one that
    :class:`gradviz.TransformerExplorer` with ``max_depth = max(depths)`` and the same
    ``batch_size``, ``d_model``, ``heads`` and ``seq_len`` uses, so after the explorer it
    compiles nothing. Inputs and targets are standard normal, layer norm.

    Returns:
        ``{(placement, depth): {"down_grad", "stream_grad", "stream_rms", "token_cosine"}}``,
        each the median over seeds; ``result["per_seed"]`` holds the ``(n_seeds,)`` arrays.
    """
    depths = [_checks.integer("depth", d, low=1) for d in depths]
    if not depths:
        raise ValueError("depths is empty; give at least one depth, e.g. (2, 8, 32)")
    seq_len = _checks.integer("seq_len", seq_len, low=1)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    seeds = [_checks.integer("seed", s, low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty; give at least 10, e.g. range(10)")
    cfg = TransformerConfig(depth=max(depths), d_model=d_model, heads=heads, seq_len=seq_len)
    runs = {}  # dispatched all at once, fetched together
    for seed in seeds:
        params = init_transformer(cfg, jax.random.PRNGKey(seed))
        x, y = default_batch(cfg, seed, batch_size)
        for i, placement in enumerate(PLACEMENTS):
            for depth in depths:
                runs[placement, depth, seed] = probe_transformer_stacked(
                    params, x, y, depth, i, 0, 1.0, heads=heads)
    runs = jax.device_get(runs)
    out, per_seed = {}, {}
    for placement in PLACEMENTS:
        for depth in depths:
            per_seed[placement, depth] = {
                k: np.array([runs[placement, depth, s][v][depth - 1] for s in seeds])
                for k, v in _KEYS.items()}
            out[placement, depth] = {k: float(np.median(v))
                                     for k, v in per_seed[placement, depth].items()}
    out["per_seed"] = per_seed
    return out
