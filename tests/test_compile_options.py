"""gradviz compiles its random draws at LLVM -O1 without XLA's fusion emitters
(``_cache.DRAW_COMPILE``) when they are called from Python, to save compile time; the
lessons' stored numbers were drawn at XLA's defaults. The two must give the same weights
bit for bit, for every scheme, and a draw traced inside another jit (as ``train_seeds``
does) must still work and agree."""

import jax
import numpy as np
import pytest

from gradviz import _cache, init
from gradviz.models import attention, mlp, rnn


def _default(fn, **static):
    """``fn`` jitted at XLA's default optimisation level."""
    return jax.jit(fn.__wrapped__, static_argnames=tuple(static))


def _same(a, b):
    la, lb = jax.tree.leaves(jax.device_get(a)), jax.tree.leaves(jax.device_get(b))
    assert len(la) == len(lb) > 0
    for u, v in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def test_the_options_are_o1_and_for_draws_no_fusion_emitters():
    assert _cache.FAST_COMPILE == {"xla_backend_optimization_level": 1}
    assert _cache.DRAW_COMPILE == {"xla_backend_optimization_level": 1,
                                   "xla_cpu_use_fusion_emitters": False}


def test_the_adding_problem_batch_is_the_same():
    slow = _default(rnn._adding_batch, batch_size=0, seq_len=0)
    for seed, (batch, seq_len) in enumerate([(128, 50), (16, 7)]):
        key = jax.random.PRNGKey(seed)
        _same(rnn._adding_batch(key, batch, seq_len), slow(key, batch, seq_len))


@pytest.mark.parametrize("dims", [dict(in_dim=16, width=64, out_dim=1, max_depth=32),
                                  dict(in_dim=64, width=32, out_dim=10, max_depth=8),
                                  dict(in_dim=16, width=32, out_dim=1, max_depth=32),
                                  dict(in_dim=64, width=256, out_dim=10, max_depth=32)])
def test_mlp_weight_draw_is_the_same_for_every_scheme(dims):
    slow = _default(mlp.init_mlp_stacked, **dims)
    for index in range(len(init.NAMES)):
        key = jax.random.PRNGKey(7 + index)
        _same(mlp.init_mlp_stacked(key, index, 0.05, **dims), slow(key, index, 0.05, **dims))


def test_a_draw_inside_another_jit_uses_the_plain_program_and_agrees():
    dims = dict(in_dim=8, width=16, out_dim=1, max_depth=32)

    @jax.jit
    def first_weights(seed, index):  # jax refuses compile options on a nested jit
        return mlp.init_mlp_stacked(jax.random.PRNGKey(seed), index, 0.05, **dims)["first"]["w"]

    for index in (init.NAMES.index("lecun"), init.NAMES.index("orthogonal")):
        host = mlp.init_mlp_stacked(jax.random.PRNGKey(4), index, 0.05, **dims)["first"]["w"]
        _same(first_weights(4, index), host)
    batched = jax.vmap(lambda k: mlp.init_mlp_stacked(k, 2, 0.05, **dims)["first"]["w"])
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    _same(batched(keys)[1], mlp.init_mlp_stacked(keys[1], 2, 0.05, **dims)["first"]["w"])


def test_rnn_weight_draw_is_the_same_for_every_scheme_and_cell():
    slow_rec = _default(rnn._draw_recurrent, hidden=0)
    slow_rest = _default(rnn._draw_rest, cell=0, hidden=0, in_dim=0, out_dim=0)
    keys = jax.random.split(jax.random.PRNGKey(3), 5)
    for index in range(len(init.NAMES)):
        w_rec = rnn._draw_recurrent(keys[0], index, 0.05, hidden=24)
        _same(w_rec, slow_rec(keys[0], index, 0.05, hidden=24))
    for cell in rnn.GATES:
        kw = dict(cell=cell, hidden=24, in_dim=2, out_dim=1)
        _same(rnn._draw_rest(*keys[1:], w_rec, **kw), slow_rest(*keys[1:], w_rec, **kw))


@pytest.mark.parametrize("max_depth", [2, 8])
def test_transformer_weight_draw_is_the_same(max_depth):
    slow = _default(attention._init, d=0, m=0, max_depth=0)
    for seed in range(3):
        key = jax.random.PRNGKey(seed)
        _same(attention._init(key, d=16, m=64, max_depth=max_depth),
              slow(key, d=16, m=64, max_depth=max_depth))


@pytest.mark.parametrize("shape", [(256, 8, 16), (32, 8, 1), (128, 16), (7,)])
def test_data_draws_at_o1_are_jax_random_bit_for_bit(shape):
    """The data sets and default batches draw through _cache.normal/uniform (-O1, compiled
    per shape); the stored lessons were made with jax.random's own -O2 programs."""
    key = jax.random.PRNGKey(11)
    _same(_cache.normal(key, shape), jax.random.normal(key, shape))
    _same(_cache.uniform(key, shape, minval=0.05, maxval=1.0),
          jax.random.uniform(key, shape, minval=0.05, maxval=1.0))
    inside = jax.jit(lambda k: _cache.normal(k, shape))  # nested: the plain jit
    _same(inside(key), jax.random.normal(key, shape))


def test_the_data_sets_are_unchanged_by_the_o1_draws():
    from gradviz import attention_train, data, probes
    from gradviz.models.attention import TransformerConfig

    x, y = data.teacher_regression(3, 64, 16)
    kx, kn, kw = jax.random.split(jax.random.PRNGKey(3), 3)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(jax.random.normal(kx, (64, 16))))
    bx, _ = probes.default_batch(2, 32, 16, 1)
    kx, _ = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(2), 1))
    np.testing.assert_array_equal(np.asarray(bx), np.asarray(jax.random.normal(kx, (32, 16))))
    cfg = TransformerConfig(depth=2, d_model=8, heads=2, seq_len=4)
    task = attention_train.sequence_task(cfg, seed=5)
    k_train, _ = jax.random.split(jax.random.PRNGKey(5))
    np.testing.assert_array_equal(np.asarray(task.x_train),
                                  np.asarray(jax.random.normal(k_train, (32, 4, 8))))
