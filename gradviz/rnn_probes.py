"""Gradients through time: per-step ``||dL/dh_t||`` of a recurrent network, and its training.

The loss is the mean squared error of the readout of the last state,
``L = mean((h_{T-1} W_out + b_out - y)**2)``, so every earlier step is reached only by
backpropagation through time:

.. math::
    \\frac{\\partial L}{\\partial h_t} = \\frac{\\partial L}{\\partial h_{t+1}}
    \\frac{\\partial h_{t+1}}{\\partial h_t}, \\qquad
    \\Big\\|\\frac{\\partial L}{\\partial h_t}\\Big\\| \\le
    (\\gamma\\, \\sigma_{\\max}(U))^{T-1-t} \\Big\\|\\frac{\\partial L}{\\partial h_{T-1}}\\Big\\|

for the vanilla cell (``gamma`` bounds ``|phi'|``, ``sigma_max`` is the largest singular
value of the recurrent matrix). ``dL/dh_t`` is measured as the gradient with respect to a
zero shift added to ``h_t`` (see :func:`~gradviz.models.rnn.apply_rnn`).

References:
    Pascanu, Mikolov & Bengio 2013, arXiv:1211.5063. Le, Jaitly & Hinton 2015,
    arXiv:1504.00941 (the adding problem in the form used here; Hochreiter & Schmidhuber
    1997's experiment 4 is an earlier variant).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gradviz import _checks, _devices, probes
from gradviz.models.rnn import (
    ADDING_BASELINE_MSE,
    RNNConfig,
    _adding_batch,
    adding_problem,
    apply_rnn,
    init_rnn,
    param_shapes,
)
from gradviz.train import OPTIMIZERS, check_training_args

__all__ = ["ADDING_BASELINE_MSE", "RNNProbeResult", "RNNTrainHistory", "gate_means",
           "probe_rnn", "probe_rnn_grads", "train_rnn", "train_rnn_seeds"]


def _program(cfg: RNNConfig) -> RNNConfig:
    """``cfg`` with only the fields that change the compiled program (the rest change params).

    Passing this as the static config means moving ``weight_scale``, ``init``,
    ``bias_scale`` or ``forget_bias`` (or the activation of an LSTM/GRU) never recompiles.
    """
    return RNNConfig(cell=cfg.cell, hidden=cfg.hidden, seq_len=cfg.seq_len, in_dim=cfg.in_dim,
                     out_dim=cfg.out_dim,
                     activation=cfg.activation if cfg.cell == "rnn" else "tanh")


def _mse(params, xs, y, cfg, shifts=None):
    """``(L, hs)``: MSE of the last step's readout, and every hidden state."""
    y_hat, hs = apply_rnn(params, xs, cfg, shifts)  # (batch, out_dim), (T, batch, H)
    return jnp.mean((y_hat - y) ** 2), hs


@functools.partial(jax.jit, static_argnames=("cfg",))
def probe_rnn_grads(params, xs, y, cfg: RNNConfig):
    """Per-step gradient statistics by one ``jax.grad`` of the loss.

    Args:
        params: :func:`~gradviz.models.rnn.init_rnn` pytree.
        xs: ``(batch, T, in_dim)`` inputs; y: ``(batch, out_dim)`` targets.
        cfg: static; one compile per :func:`_program` of it and per shape.

    Returns:
        dict: ``hidden_grad_norms (T,)`` = ``||dL/dh_t||``, ``hidden_norms (T,)`` =
        ``||h_t||`` (Frobenius over the batch), scalars ``loss`` and
        ``recurrent_grad_norm`` = ``||dL/dU||`` over every gate's recurrent matrix.
    """
    dtype = jnp.result_type(xs, params["readout"]["w"])
    shifts = jnp.zeros((xs.shape[1], xs.shape[0], cfg.hidden), dtype)  # (T, batch, H)
    (loss, hs), (g_params, g_shifts) = jax.value_and_grad(
        _mse, argnums=(0, 4), has_aux=True)(params, xs, y, cfg, shifts)
    return {"hidden_grad_norms": probes.norms(list(g_shifts)),
            "hidden_norms": probes.norms(list(hs)),
            "loss": loss, "recurrent_grad_norm": probes.tree_norm(g_params["w_rec"]),
            "gate_means": _gate_means(params, xs, hs, cfg)}


_GATE_NAMES = {"rnn": (), "lstm": ("i", "f", "o"), "gru": ("z", "r")}


def _gate_means(params, xs, hs, cfg):
    """``{gate: mean}`` of the sigmoid gates (see :func:`gate_means`), traced."""
    prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]])  # h_{t-1}, (T, batch, H)
    out = {}
    for k in _GATE_NAMES[cfg.cell]:
        pre = (jnp.einsum("bti,ij->tbj", xs, params["w_in"][k]) + prev @ params["w_rec"][k]
               + params["b"][k])  # (T, batch, H)
        out[k] = jnp.mean(jax.nn.sigmoid(pre))
    return out


@dataclasses.dataclass(frozen=True)
class RNNProbeResult:
    """Per-step gradient statistics of one recurrent network on one batch (numpy)."""

    hidden_grad_norms: np.ndarray  # (seq_len,) ||dL/dh_t||, loss on the last step
    hidden_norms: np.ndarray       # (seq_len,) ||h_t||
    loss: float
    recurrent_grad_norm: float     # ||dL/dU|| over every gate's recurrent matrix


def probe_rnn(cfg: RNNConfig, params=None, xs=None, y=None, seed: int = 0,
              batch_size: int = 64) -> RNNProbeResult:
    """Measure ``||dL/dh_t||`` at every step with one backward pass.

    Args:
        cfg: the network; params: from :func:`~gradviz.models.rnn.init_rnn` (default:
            ``init_rnn(cfg, PRNGKey(seed))``).
        xs: ``(batch, seq_len, in_dim)``; y: ``(batch, out_dim)`` float targets (default:
            ``adding_problem(seed, batch_size, cfg.seq_len)``, which needs ``in_dim=2``,
            ``out_dim=1`` and ``seq_len >= 2``).
    """
    if not isinstance(cfg, RNNConfig):
        raise ValueError(f"cfg={cfg!r} must be an RNNConfig")
    seed = _checks.integer("seed", seed, low=0)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    if (xs is None) != (y is None):
        raise ValueError("xs and y must be given together (or both left as None)")
    if xs is None:
        _check_adding_dims(cfg)  # the default batch is the adding problem: else pass xs, y
        xs, y = adding_problem(seed, batch_size, cfg.seq_len)
    xs, y = _check_batch(cfg, xs, y)
    if params is None:
        params = init_rnn(cfg, jax.random.PRNGKey(seed))
    _check_params(cfg, params)
    out = jax.device_get(probe_rnn_grads(params, xs, y, _program(cfg)))
    return RNNProbeResult(hidden_grad_norms=np.asarray(out["hidden_grad_norms"]),
                          hidden_norms=np.asarray(out["hidden_norms"]),
                          loss=float(out["loss"]),
                          recurrent_grad_norm=float(out["recurrent_grad_norm"]))


def _check_adding_dims(cfg):
    """The adding problem needs two input channels, one target and two steps at least."""
    if (cfg.in_dim, cfg.out_dim) != (2, 1) or cfg.seq_len < 2:
        raise ValueError(f"cfg has in_dim={cfg.in_dim}, out_dim={cfg.out_dim}, "
                         f"seq_len={cfg.seq_len}; the adding problem needs in_dim=2, "
                         "out_dim=1 and seq_len >= 2")


def _check_params(cfg, params):
    expected = param_shapes(cfg)
    shapes = jax.tree.map(np.shape, params) if isinstance(params, dict) else type(params)
    if shapes != expected:
        raise ValueError(f"params has shapes {shapes}; cfg expects {expected} "
                         "(use init_rnn(cfg, key))")


def _check_batch(cfg, xs, y):
    xs, y = jnp.asarray(xs), jnp.asarray(y)
    for name, arr, dims in (("xs", xs, (cfg.seq_len, cfg.in_dim)), ("y", y, (cfg.out_dim,))):
        if arr.shape[1:] != dims:
            shown = ", ".join(str(d) for d in ("batch", *dims))
            raise ValueError(f"{name} has shape {arr.shape}; expected ({shown})")
        if not jnp.issubdtype(arr.dtype, jnp.floating):
            raise ValueError(f"{name} has dtype {arr.dtype}; expected a float dtype")
    if xs.shape[0] != y.shape[0]:
        raise ValueError(f"xs has {xs.shape[0]} rows but y has {y.shape[0]}; they must match")
    return xs, y


def gate_means(cfg: RNNConfig, params, xs) -> dict:
    """Mean value of each sigmoid gate over the batch, the steps and the units.

    Recomputes the gates from the hidden states :func:`~gradviz.models.rnn.apply_rnn`
    returns (``h_{-1} = 0``): ``gate_k(t) = sigmoid(x_t W_k + h_{t-1} U_k + b_k)`` for the
    LSTM's ``i``, ``f``, ``o`` and the GRU's ``z`` (update: the fraction of ``h_{t-1}`` kept)
    and ``r`` (reset). A mean forget gate ``f`` (or ``z``) near 1 keeps the state, and so
    its gradient, across many steps; near 0.5 it halves both at every step.

    Returns:
        ``{gate: float}``; ``{}`` for the vanilla cell, which has no gates.
    """
    if not isinstance(cfg, RNNConfig):
        raise ValueError(f"cfg={cfg!r} must be an RNNConfig")
    _check_params(cfg, params)
    if not _GATE_NAMES[cfg.cell]:
        return {}
    xs = jnp.asarray(xs)  # (batch, T, in_dim)
    # computed inside the probe's compiled program: no compile of its own for a batch shape
    # that probe_rnn has seen (the loss, against zero targets, is not used)
    y = jnp.zeros((xs.shape[0], cfg.out_dim), xs.dtype)
    out = jax.device_get(probe_rnn_grads(params, xs, y, _program(cfg))["gate_means"])
    return {k: float(out[k]) for k in _GATE_NAMES[cfg.cell]}  # in the cell's gate order


@dataclasses.dataclass(frozen=True)
class RNNTrainHistory:
    """Per-step records of one run on the adding problem (rows stop at divergence)."""

    loss: np.ndarray                 # (steps,) loss before each update
    recurrent_grad_norms: np.ndarray  # (steps,) ||dL/dU|| before clipping
    diverged_at: int | None          # first step whose loss is not finite, or None
    params: dict                     # final parameters


@functools.lru_cache(maxsize=16)  # bounded: one compiled run per recent configuration
def _make_run(cfg: RNNConfig, optimizer: str, learning_rate: float, clip_norm: float | None):
    """One jitted training run, ``lax.scan`` over the steps: one compile per cell program and
    optimizer (the data are inputs, drawn outside; see :func:`_batches`), no per-step sync."""
    opt = OPTIMIZERS[optimizer](learning_rate)
    if clip_norm is not None:
        opt = optax.chain(optax.clip_by_global_norm(clip_norm), opt)

    @jax.jit
    def run(params, all_xs, all_y):  # (steps, batch, T, in_dim), (steps, batch, out_dim)
        def step(carry, batch):
            params, state, stopped = carry
            (loss, _), grads = jax.value_and_grad(_mse, has_aux=True)(params, *batch, cfg)
            updates, new_state = opt.update(grads, state, params)
            stopped = stopped | ~jnp.isfinite(loss)  # from the first non-finite loss: frozen
            keep = functools.partial(jax.tree.map, lambda old, new: jnp.where(stopped, old, new))
            carry = (keep(params, optax.apply_updates(params, updates)), keep(state, new_state),
                     stopped)
            return carry, (loss, probes.tree_norm(grads["w_rec"]))

        (params, _, _), (losses, norms) = jax.lax.scan(
            step, (params, opt.init(params), jnp.asarray(False)), (all_xs, all_y))
        return params, losses, norms

    return run


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _batches(data_key, steps: int, batch_size: int, seq_len: int):
    """Step ``t``'s batch, ``_adding_batch(fold_in(data_key, t))``, for every ``t`` at once."""
    keys = jax.vmap(lambda t: jax.random.fold_in(data_key, t))(jnp.arange(steps))
    return jax.vmap(lambda k: _adding_batch(k, batch_size, seq_len))(keys)


def train_rnn(cfg: RNNConfig, optimizer: str = "adam", learning_rate: float = 1e-3,
              clip_norm: float | None = None, steps: int = 200, seed: int = 0,
              batch_size: int = 64) -> RNNTrainHistory:
    """Train on the adding problem with an optax optimizer, a fresh batch every step.

    Step ``t`` draws its batch from ``fold_in(fold_in(PRNGKey(seed), 2), t)`` (the weights
    come from ``PRNGKey(seed)``, :func:`probe_rnn`'s batch from ``fold_in(..., 1)``), records
    the loss and ``||dL/dU||`` before clipping, then applies
    ``optax.clip_by_global_norm(clip_norm)`` (if given) and the optimizer. Stops at the first
    non-finite loss (``diverged_at``). A loss below :data:`ADDING_BASELINE_MSE` ``= 1/6``,
    the MSE of always predicting the mean, means the network has learned something.
    """
    if not isinstance(cfg, RNNConfig):
        raise ValueError(f"cfg={cfg!r} must be an RNNConfig")
    learning_rate, clip_norm, steps, seed, batch_size = check_training_args(
        optimizer, learning_rate, clip_norm, steps, seed, batch_size)
    _check_adding_dims(cfg)

    run = _make_run(_program(cfg), optimizer, learning_rate, clip_norm)
    key = jax.random.PRNGKey(seed)
    all_xs, all_y = _batches(jax.random.fold_in(key, 2), steps, batch_size, cfg.seq_len)
    return _history(*jax.device_get(run(init_rnn(cfg, key), all_xs, all_y)))


def _history(params, losses, norms) -> RNNTrainHistory:
    """One run's records, cut at its first non-finite loss (params are those before it)."""
    losses, norms = np.asarray(losses), np.asarray(norms)
    bad = np.flatnonzero(~np.isfinite(losses))
    diverged_at = int(bad[0]) if bad.size else None
    if diverged_at is not None:
        losses, norms = losses[:diverged_at + 1], norms[:diverged_at + 1]
    return RNNTrainHistory(losses, norms, diverged_at, params)


@functools.lru_cache(maxsize=8)
def _make_seed_runs(cfg: RNNConfig, optimizer: str, learning_rate: float,
                    clip_norm: float | None):
    """:func:`_make_run`'s run for a stack of seeds, one compiled program; each CPU device
    trains its share of them, one after another (:func:`gradviz._devices.map_runs`)."""
    run = _make_run(cfg, optimizer, learning_rate, clip_norm)
    return jax.jit(lambda params, all_xs, all_y: _devices.map_runs(run, (params, all_xs, all_y)))


def train_rnn_seeds(cfg: RNNConfig, seeds=range(10), optimizer: str = "adam",
                    learning_rate: float = 1e-3, clip_norm: float | None = None,
                    steps: int = 200, batch_size: int = 64) -> list[RNNTrainHistory]:
    """:func:`train_rnn` for every seed in ``seeds`` (weights and batches from that seed, as
    there), as one compiled program whose runs the CPU's devices share.

    A training claim about one draw of the weights is a claim about that draw; this gives
    the spread over draws at the cost of about one run per core.
    """
    if not isinstance(cfg, RNNConfig):
        raise ValueError(f"cfg={cfg!r} must be an RNNConfig")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed, e.g. range(10)")
    for s in seeds:
        learning_rate, clip_norm, steps, _, batch_size = check_training_args(
            optimizer, learning_rate, clip_norm, steps, s, batch_size)
    _check_adding_dims(cfg)
    keys = [jax.random.PRNGKey(s) for s in seeds]
    data = [_batches(jax.random.fold_in(k, 2), steps, batch_size, cfg.seq_len) for k in keys]
    stack = functools.partial(jax.tree.map, lambda *a: jnp.stack(a))
    params, losses, norms = jax.device_get(_make_seed_runs(
        _program(cfg), optimizer, learning_rate, clip_norm)(
        stack(*[init_rnn(cfg, k) for k in keys]), *stack(*data)))
    return [_history(jax.tree.map(lambda a, i=i: a[i], params), losses[i], norms[i])
            for i in range(len(seeds))]
