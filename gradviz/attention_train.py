"""Training the small transformer with Adam and a linear warm-up, judged on held-out sequences.

The task is a *teacher* transformer: inputs are standard-normal tokens
``x: (n, seq_len, d_model)`` and each token's target is the output of a fixed random
2-block pre-LN transformer of the same width (:mod:`gradviz.models.attention`, drawn from
``teacher_seed``), scaled to unit variance on the training set. A student of the same
family can represent it, so a held-out loss near 0 means it learnt the map, and the
predict-the-training-mean loss (about 1) is the baseline to beat. Training sequences and
held-out sequences are separate draws.

The learning rate follows a linear warm-up from 0 over ``warmup_steps`` steps, then stays
at ``learning_rate`` (``optax.linear_schedule(0, lr, k)`` for ``k > 0``, constant for
``k = 0``; ``k`` is traced here, so every warm-up length shares one compiled program).

References:
    Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture",
    arXiv:2002.04745. Liu et al. 2020, "Understanding the Difficulty of Training
    Transformers", arXiv:2004.08249. Vaswani et al. 2017 (warm-up), arXiv:1706.03762.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gradviz import _cache, _checks, _devices
from gradviz._cache import FAST_COMPILE
from gradviz.models.attention import (
    NORMS,
    PLACEMENTS,
    TransformerConfig,
    _forward,
    init_transformer,
)

__all__ = ["SequenceTask", "WarmupRuns", "sequence_task", "train_transformer_grid",
           "train_transformer_seeds", "warmup_lr"]


@dataclasses.dataclass(frozen=True)
class SequenceTask:
    """Training and held-out sequences of the teacher task, and the mean-predictor baseline."""

    x_train: jax.Array  # (n_train, seq_len, d_model)
    y_train: jax.Array  # (n_train, seq_len, 1)
    x_test: jax.Array   # (n_test, seq_len, d_model)
    y_test: jax.Array   # (n_test, seq_len, 1)
    baseline: float     # held-out MSE of predicting the training targets' mean


def sequence_task(cfg: TransformerConfig, n_train: int = 32, n_test: int = 256, *,
                  seed: int = 0, teacher_seed: int = 100) -> SequenceTask:
    """The teacher task for students shaped like ``cfg`` (its ``d_model``, ``heads``,
    ``seq_len``): ``y = T(x) / std(T(x_train))`` with ``T`` a random 2-block pre-LN
    transformer (layer norm), ``x`` standard normal, drawn from ``seed``."""
    if not isinstance(cfg, TransformerConfig):
        raise ValueError(f"cfg={cfg!r} must be a TransformerConfig")
    n_train = _checks.integer("n_train", n_train, low=1)
    n_test = _checks.integer("n_test", n_test, low=1)
    _checks.integer("seed", seed, low=0)
    _checks.integer("teacher_seed", teacher_seed, low=0)
    teacher_cfg = dataclasses.replace(cfg, depth=2, placement="pre", norm="layer",
                                      weight_scale=1.0)
    teacher = init_transformer(teacher_cfg, jax.random.PRNGKey(teacher_seed))
    k_train, k_test = jax.random.split(jax.random.PRNGKey(seed))
    x_train = _cache.normal(k_train, (n_train, cfg.seq_len, cfg.d_model))
    x_test = _cache.normal(k_test, (n_test, cfg.seq_len, cfg.d_model))

    y = _teacher(teacher, jnp.concatenate([x_train, x_test]), heads=cfg.heads)
    y_train, y_test = y[:n_train], y[n_train:]  # (n, seq_len, 1)
    scale = jnp.std(y_train)
    y_train, y_test = y_train / scale, y_test / scale
    baseline = float(jnp.mean((y_test - jnp.mean(y_train)) ** 2))
    return SequenceTask(x_train, y_train, x_test, y_test, baseline)


@functools.partial(jax.jit, static_argnames="heads", compiler_options=FAST_COMPILE)
def _teacher(teacher, x, *, heads):
    """The teacher's output ``(n, seq_len, 1)``: one compiled call, not op-by-op dispatch."""
    return _forward(teacher, x, 2, 0, 0, heads, 1.0, jnp.zeros((2, *x.shape), x.dtype))[0]


def warmup_lr(step, learning_rate, warmup_steps):
    """Linear warm-up: ``lr * min(step / k, 1)`` for ``k > 0``, ``lr`` for ``k = 0``
    (``optax.linear_schedule(0, lr, k)``, with ``k`` allowed to be traced)."""
    k = jnp.asarray(warmup_steps, jnp.float32)
    return learning_rate * jnp.where(k > 0, jnp.minimum(step / jnp.maximum(k, 1.0), 1.0), 1.0)


def _mse(params, x, y, depth, placement_index, norm_index, heads, weight_scale):
    shifts = jnp.zeros((params["blocks"]["qkv"].shape[0], *x.shape), x.dtype)
    out = _forward(params, x, depth, placement_index, norm_index, heads, weight_scale, shifts)[0]
    return jnp.mean((out - y) ** 2)


@functools.partial(jax.jit, static_argnames=("cfg_static", "steps"),
                   compiler_options=FAST_COMPILE)
def _train(seeds, placement_index, warmup_steps, x, y, x_test, y_test, learning_rate, *,
           cfg_static, steps):
    """One Adam run per entry of ``seeds``, ``placement_index`` and ``warmup_steps`` (all
    ``(n_runs,)``): the placement and the warm-up are per-run traced values."""
    depth, d_model, heads, seq_len, mlp_ratio, norm_index, weight_scale = cfg_static
    shape = TransformerConfig(depth=depth, d_model=d_model, heads=heads, seq_len=seq_len,
                              mlp_ratio=mlp_ratio)

    def one(seed, placement_index, warmup_steps):
        params = init_transformer(shape, jax.random.PRNGKey(seed))
        opt = optax.adam(lambda t: warmup_lr(t, learning_rate, warmup_steps))
        loss = functools.partial(_mse, depth=depth, placement_index=placement_index,
                                 norm_index=norm_index, heads=heads, weight_scale=weight_scale)

        def step(carry, _):
            params, state = carry
            value, grads = jax.value_and_grad(loss)(params, x, y)
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), value

        (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), None, length=steps)
        return losses, loss(params, x_test, y_test)

    # one run at a time, not vmap: the body compiles as the one-run program, and on a CPU the
    # 40 runs of lesson 11 train a third faster one after another than as batched matrix
    # products; each CPU device takes its share of them (gradviz._devices)
    return _devices.map_runs(one, (seeds, placement_index, warmup_steps))


@dataclasses.dataclass(frozen=True)
class WarmupRuns:
    """Adam runs of one transformer, one per seed (the weights' draw; the data are fixed)."""

    seeds: np.ndarray       # (n_seeds,)
    loss: np.ndarray        # (n_seeds, steps) training loss before each update
    test_loss: np.ndarray   # (n_seeds,) held-out loss after the last step
    baseline: float         # held-out loss of predicting the training mean


def _run_grid(cfg, task, seeds, placements, warmups, learning_rate, steps) -> dict:
    """Validate, then train every (placement, warm-up, seed) in one compiled call."""
    if not isinstance(cfg, TransformerConfig):
        raise ValueError(f"cfg={cfg!r} must be a TransformerConfig")
    if not isinstance(task, SequenceTask) or task.x_train.shape[1:] != (cfg.seq_len, cfg.d_model):
        raise ValueError(f"task must be a sequence_task(...) made for cfg's seq_len "
                         f"{cfg.seq_len} and d_model {cfg.d_model}")
    seeds = np.asarray([_checks.integer("seed", s, low=0) for s in seeds], np.int32)
    if seeds.size == 0:
        raise ValueError("seeds is empty; give at least one, e.g. range(10)")
    placements = list(placements)
    for p in placements:
        _checks.one_of("placement", p, PLACEMENTS)
    warmups = [_checks.integer("warmup_steps", k, low=0) for k in warmups]
    if not placements or not warmups:
        raise ValueError("placements and warmups need at least one entry each, e.g. "
                         "('pre', 'post') and (0, 20)")
    learning_rate = _checks.real("learning_rate", learning_rate, low=0.0, inclusive=False)
    steps = _checks.integer("steps", steps, low=1)
    grid = [(p, k) for p in placements for k in warmups]
    n = seeds.size
    cfg_static = (cfg.depth, cfg.d_model, cfg.heads, cfg.seq_len, cfg.mlp_ratio,
                  NORMS.index(cfg.norm), float(cfg.weight_scale))
    losses, test = jax.device_get(_train(
        jnp.asarray(np.tile(seeds, len(grid))),
        jnp.asarray(np.repeat([PLACEMENTS.index(p) for p, _ in grid], n), jnp.int32),
        jnp.asarray(np.repeat([k for _, k in grid], n), jnp.float32),
        task.x_train, task.y_train, task.x_test, task.y_test, jnp.float32(learning_rate),
        cfg_static=cfg_static, steps=steps))
    return {pk: WarmupRuns(seeds, np.asarray(losses[i * n:(i + 1) * n]),
                           np.asarray(test[i * n:(i + 1) * n]), task.baseline)
            for i, pk in enumerate(grid)}


def train_transformer_seeds(cfg: TransformerConfig, task: SequenceTask, *, seeds=range(10),
                            learning_rate: float = 0.03, warmup_steps: int = 0,
                            steps: int = 100) -> WarmupRuns:
    """Full-batch Adam on ``task`` for every seed, in one compiled call.

    ``cfg.placement`` and ``warmup_steps`` are traced: pre-LN, post-LN and every warm-up
    length share one compiled program (for one depth, width and number of seeds).
    """
    placement = cfg.placement if isinstance(cfg, TransformerConfig) else None
    return _run_grid(cfg, task, seeds, [placement], [warmup_steps], learning_rate,
                     steps)[placement, warmup_steps]


def train_transformer_grid(cfg: TransformerConfig, task: SequenceTask, *,
                           placements=PLACEMENTS, warmups=(0,), seeds=range(10),
                           learning_rate: float = 0.03, steps: int = 100) -> dict:
    """:func:`train_transformer_seeds` for every placement and warm-up length, in one call.

    All ``len(placements) * len(warmups) * len(seeds)`` runs go through one compiled call
    (the placement and the warm-up are per-run traced values);
    ``cfg.placement`` is ignored. Run ``(p, k, s)`` equals
    ``train_transformer_seeds(replace(cfg, placement=p), task, seeds=[s], warmup_steps=k)``.

    Returns:
        ``{(placement, warmup_steps): WarmupRuns}``.
    """
    return _run_grid(cfg, task, seeds, placements, warmups, learning_rate, steps)
