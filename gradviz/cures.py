"""Vanishing-gradient cures compared over seeds, and where a network's starting loss comes from.

Lesson 07 measures each cure's gradient profile at initialisation. One draw of the weights
can be lucky, so every number here is a median over seeds with its 10th-90th percentile
range (:func:`gradviz.seeds.spread`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gradviz import seeds as _seeds
from gradviz.models.mlp import MLPConfig, apply_mlp, init_mlp
from gradviz.models.rnn import RNNConfig
from gradviz.rnn_probes import probe_rnn


def _row(d: np.ndarray, extra: dict) -> dict:
    """Summary of ``d: (n_seeds, L)`` gradient norms, layer (or step) 0 first."""
    with np.errstate(all="ignore"):
        ratio = d[:, 0] / d[:, -1]
        span = d.max(axis=1) / d.min(axis=1)
    s = _seeds.spread(ratio)
    return {"first / last": s.median, "10th pct": s.low, "90th pct": s.high,
            "per-layer factor": s.median ** (1 / (d.shape[1] - 1)),
            "span": float(np.median(span)), **extra}


def profile_table(nets: dict, rnns: dict | None = None, *, seeds=range(10),
                  batch_size: int = 128, rnn_batch: int = 32) -> dict:
    """Gradient profiles at initialisation, each the median over ``seeds``.

    For every network, ``r = ||dL/dh_0|| / ||dL/dh_{L-1}||`` (through time for the
    recurrent ones, ``||dL/dh_0|| / ||dL/dh_{T-1}||``) is measured once per seed; a row gives
    its median and 10th/90th percentiles, the *per-layer factor* ``median(r) ** (1/(L-1))``
    (the geometric mean of the ratios between neighbours, since the product of those ratios
    telescopes to ``r``), the median *span* ``max_l ||dL/dh_l|| / min_l ||dL/dh_l||`` and,
    for MLPs, the median standard deviation of the last layer's output.

    Args:
        nets: ``{label: MLPConfig}``, measured by :func:`gradviz.seeds.probe_seeds` with each
            seed's default batch of ``batch_size`` (as ``probe_mlp(cfg, seed=s)``).
        rnns: ``{label: RNNConfig}``, measured by :func:`gradviz.probe_rnn` per seed.

    Returns:
        ``{label: {column: value}}`` for :func:`gradviz.tables.format_table`.
    """
    rows = {}
    for label, cfg in nets.items():
        if not isinstance(cfg, MLPConfig):
            raise ValueError(f"nets[{label!r}]={cfg!r} must be an MLPConfig")
        r = _seeds.probe_seeds(cfg, seeds=seeds, batch_size=batch_size)
        rows[label] = _row(r.activation_grad_norms,
                           {"std of last output": float(np.median(r.activation_stds[:, -1]))})
    for label, cfg in (rnns or {}).items():
        if not isinstance(cfg, RNNConfig):
            raise ValueError(f"rnns[{label!r}]={cfg!r} must be an RNNConfig")
        d = np.stack([probe_rnn(cfg, seed=int(s), batch_size=rnn_batch).hidden_grad_norms
                      for s in seeds])  # (n_seeds, seq_len)
        rows[label] = _row(d, {})
    return rows


def output_offset(cfg: MLPConfig, x, y, *, seeds=range(20)) -> dict:
    """Split each seed's starting loss into a constant offset and the rest.

    With ``f = apply_mlp(init_mlp(cfg, PRNGKey(s)), x)``, the mean squared error splits
    exactly (per output ``k``, averaged over the outputs):

    .. math::
        \\frac{1}{n}\\sum_i (f_{ik} - y_{ik})^2 = (\\bar f_k - \\bar y_k)^2
        + \\frac{1}{n}\\sum_i \\big((f_{ik} - \\bar f_k) - (y_{ik} - \\bar y_k)\\big)^2

    The first term is what the network gets wrong *by the same amount for every input*:
    a constant that one step on the readout's bias removes.

    Returns:
        ``{"loss", "offset_part", "offset"}``, each ``(n_seeds,)``: the loss, the first
        term, and (for one output) the signed offset ``mean(f) - mean(y)``.
    """
    if not isinstance(cfg, MLPConfig):
        raise ValueError(f"cfg={cfg!r} must be an MLPConfig")
    x, y = jnp.asarray(x), jnp.asarray(y)
    forward = jax.jit(apply_mlp, static_argnums=2)
    loss, part, offset = [], [], []
    for s in _seeds._check_seeds(seeds):
        f = forward(init_mlp(cfg, jax.random.PRNGKey(int(s))), x, cfg)  # (n, out_dim)
        gap = f.mean(axis=0) - y.mean(axis=0)  # (out_dim,)
        loss.append(float(jnp.mean((f - y) ** 2)))
        part.append(float(jnp.mean(gap**2)))
        offset.append(float(gap.mean()))
    return {"loss": np.array(loss), "offset_part": np.array(part), "offset": np.array(offset)}


def _capped(v: float, cap: float):
    """``v``, or the words ``"above {cap:g}"`` where a chaotic run's digits mean nothing."""
    return v if v < cap else f"above {cap:g}"


def _inf_if_bad(values) -> np.ndarray:
    """``values`` as floats with nan and -inf replaced by inf, the worst a loss can be."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), v, np.inf)


def training_table(nets: dict, *, x, y, x_test, y_test, labels_test=None, seeds=range(10),
                   learning_rate: float = 0.003, steps: int = 200, cap: float = 1e4):
    """Train every network from every seed with SGD and judge it on held-out data.

    All ``len(nets) * len(seeds)`` runs are :func:`gradviz.train.train_many`, one compiled
    program; run ``(label, s)`` is ``train_mlp(nets[label], "sgd", learning_rate, steps=steps,
    seed=s, x=x, y=y)``. The baseline is :func:`gradviz.data.mean_baseline_mse`: predicting
    the training targets' mean for every held-out example.

    Returns:
        ``(rows, runs)``. ``rows[label]`` holds medians over the seeds of the loss at step 0,
        the largest loss and the final training loss, the held-out loss with its 10th-90th
        percentiles, how many seeds end clearly below the baseline on held-out data (under
        0.9 times it: a network that learnt only the mean lands within a hair of it either
        side) and, with ``labels_test``, the held-out accuracy. A loss that overflows counts
        as inf: it ranks last in a median and is left out of the percentiles, which then
        say how many were. A median at or above ``cap`` reads ``"above 1e4"`` (such runs
        are chaotic: their digits differ between processors).
        ``runs[label]`` lists the :class:`gradviz.train.TrainHistory` per seed.
    """
    from gradviz.data import mean_baseline_mse
    from gradviz.train import evaluate, train_many

    if not isinstance(nets, dict) or not nets:
        raise ValueError(f"nets={nets!r} must be a non-empty dict of MLPConfig")
    draws = [int(s) for s in _seeds._check_seeds(seeds)]
    order = [(label, learning_rate, s) for label in nets for s in draws]
    histories = train_many(nets, order, steps=steps, x=x, y=y, norms=False)
    baseline = mean_baseline_mse(np.asarray(y), np.asarray(y_test))
    rows, runs = {}, {}
    for label, cfg in nets.items():
        mine = [h for (name, _, _), h in zip(order, histories, strict=True) if name == label]
        judged = [evaluate(cfg, h.params, x_test, y_test, labels_test) for h in mine]
        losses = _inf_if_bad([e.loss for e in judged])
        held = _seeds.spread(losses)  # its percentiles leave the inf runs out: say how many
        median = float(np.median(losses))
        spread = "-" if median >= cap else f"{held.low:.3g}-{held.high:.3g}"
        if held.nonfinite:
            spread += f" ({held.nonfinite} inf)"
        row = {"loss at 0": float(np.median(_inf_if_bad([h.loss[0] for h in mine]))),
               "largest": _capped(float(np.median(_inf_if_bad([np.nanmax(h.loss)
                                                               for h in mine]))), cap),
               "final": _capped(float(np.median(_inf_if_bad([h.loss[-1] for h in mine]))),
                                cap),
               "held-out": _capped(median, cap), "10th-90th": spread,
               "< 0.9 x baseline":
                   f"{sum(v < 0.9 * baseline for v in losses)} of {len(judged)}"}
        if labels_test is not None:
            acc = _seeds.spread([e.accuracy for e in judged])
            row["accuracy"] = acc.median
            row["acc. 10th-90th"] = f"{acc.low:.2f}-{acc.high:.2f}"
        rows[label], runs[label] = row, mine
    return rows, runs


def median_loss(histories: list) -> np.ndarray:
    """The step-by-step median of several runs' training losses (a run cut short by a
    non-finite loss counts as inf from there on)."""
    steps = max(len(h.loss) for h in histories)
    losses = np.full((len(histories), steps), np.inf)
    for i, h in enumerate(histories):
        losses[i, :len(h.loss)] = h.loss
    return np.median(losses, axis=0)
