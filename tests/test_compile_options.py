"""gradviz compiles its weight draws at LLVM -O1 (``_cache.FAST_COMPILE``) when they are
called from Python, to save compile time; the lessons' stored numbers were drawn at XLA's
default -O2. The two must give the same weights bit for bit, for every scheme, and a draw
traced inside another jit (as ``train_seeds`` does) must still work and agree."""

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


def test_the_option_is_o1():
    assert _cache.FAST_COMPILE == {"xla_backend_optimization_level": 1}


@pytest.mark.parametrize("dims", [dict(in_dim=16, width=64, out_dim=1, max_depth=32),
                                  dict(in_dim=64, width=32, out_dim=10, max_depth=8)])
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
