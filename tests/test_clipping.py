"""Clipping, weight decay and warm-up: the training loops do exactly what the formulas say
(checked against numpy re-implementations of each formula), and the compile-free stacked
loop does exactly what the optax chain in train_mlp does."""

import jax
import numpy as np
import pytest

import gradviz as gv
from gradviz import activations, probes, train
from gradviz.models.mlp import init_mlp_stacked

CFG = gv.MLPConfig(depth=5, width=12, activation="relu", init="he_normal", weight_scale=1.4)
X, Y = gv.data.teacher_regression(0, 32, 16)
LR = 0.01


def _first_update(**kwargs):
    """(gradient, weights before, weights after) of one train_mlp step, as numpy lists."""
    h = gv.train_mlp(CFG, "sgd", LR, steps=1, x=X, y=Y, **kwargs)
    p0 = gv.init_mlp(CFG, jax.random.PRNGKey(0))
    _, g = probes.mse_loss_and_grads(p0, X, Y, CFG)
    return _np(g), _np(p0), _np(h.params), h


def _np(tree):
    return [{k: np.asarray(v, np.float64) for k, v in layer.items()} for layer in tree]


def _assert_step(g_clipped, before, after, lr=LR):
    for gl, b, a in zip(g_clipped, before, after, strict=True):
        for k in ("w", "b"):
            np.testing.assert_allclose(a[k], b[k] - lr * gl[k], rtol=1e-5, atol=1e-7)


def test_clip_by_global_norm_rescales_the_whole_gradient():
    g, before, after, h = _first_update(clip_norm=0.5, clip="global_norm")
    total = np.sqrt(sum(np.sum(v**2) for layer in g for v in layer.values()))
    assert total > 0.5  # the clip is active
    _assert_step([{k: v * 0.5 / total for k, v in layer.items()} for layer in g], before, after)
    assert h.update_norms[0] == pytest.approx(LR * 0.5, rel=1e-5)


def test_clip_by_value_clips_each_entry_and_turns_the_update():
    g, before, after, _ = _first_update(clip_norm=0.05, clip="value")
    clipped = [{k: np.clip(v, -0.05, 0.05) for k, v in layer.items()} for layer in g]
    _assert_step(clipped, before, after)
    flat = np.concatenate([v.ravel() for layer in g for v in layer.values()])
    flat_c = np.concatenate([v.ravel() for layer in clipped for v in layer.values()])
    cosine = flat @ flat_c / np.linalg.norm(flat) / np.linalg.norm(flat_c)
    assert cosine < 0.99  # the direction changed: value clipping is not a rescaling


def test_adaptive_gradient_clipping_is_unitwise_relative_to_the_weights():
    """Brock et al. 2021: each unit's gradient is capped at c * max(||w_unit||, 1e-3)."""
    c = 0.02
    g, before, after, _ = _first_update(clip_norm=c, clip="agc")
    clipped = []
    for gl, b in zip(g, before, strict=True):
        out = {}
        for k in ("w", "b"):
            axis = 0 if gl[k].ndim == 2 else None  # a weight matrix's unit is its column
            gn = np.sqrt(np.sum(gl[k] ** 2, axis=axis, keepdims=axis is not None))
            pn = np.sqrt(np.sum(b[k] ** 2, axis=axis, keepdims=axis is not None))
            cap = c * np.maximum(pn, 1e-3)
            out[k] = np.where(gn > cap, gl[k] * cap / np.maximum(gn, 1e-6), gl[k])
        clipped.append(out)
    assert any(not np.allclose(a["w"], b["w"]) for a, b in zip(clipped, g, strict=True))
    _assert_step(clipped, before, after)


def test_weight_decay_adds_lambda_w_to_the_gradient():
    g, before, after, _ = _first_update(weight_decay=0.1)
    _assert_step([{k: gl[k] + 0.1 * b[k] for k in gl} for gl, b in zip(g, before, strict=True)],
                 before, after)


def test_linear_warmup_ramps_the_sgd_step_from_zero():
    """Warm-up over 10 steps: step 0 uses learning rate 0, step 1 uses LR / 10."""
    h = gv.train_mlp(CFG, "sgd", LR, steps=2, x=X, y=Y, warmup_steps=10)
    assert h.update_norms[0] == 0.0
    g, before, _, _ = _first_update()
    _assert_step(g, before, _np(h.params), lr=LR / 10)


@pytest.mark.parametrize("clip", train.CLIPS)
def test_stacked_training_clips_exactly_as_the_optax_chain(clip):
    threshold = {"global_norm": 1.0, "value": 0.02, "agc": 0.01}[clip]
    ref = gv.train_mlp(CFG, "sgd", LR, clip_norm=threshold, clip=clip, steps=12, x=X, y=Y)
    stack = init_mlp_stacked(jax.random.PRNGKey(0), gv.init.NAMES.index(CFG.init), 0.01,
                             in_dim=16, width=CFG.width, out_dim=1, max_depth=8)
    out = jax.device_get(train.train_stacked(
        stack, X, Y, CFG.depth, activations.NAMES.index("relu"), CFG.weight_scale, LR,
        threshold, clip_index=train.CLIPS.index(clip), steps=12))
    np.testing.assert_allclose(out["loss"], ref.loss, rtol=2e-5)
    np.testing.assert_allclose(out["update_norms"], ref.update_norms, rtol=1e-4)
    np.testing.assert_allclose(out["grad_norms"][:, :CFG.depth], ref.grad_norms, rtol=1e-4)


def test_bad_clip_and_decay_arguments_are_clear_value_errors():
    for kwargs, word in (({"clip": "norm", "clip_norm": 1.0}, "clip"),
                         ({"weight_decay": -1.0}, "weight_decay"),
                         ({"warmup_steps": -3}, "warmup_steps")):
        with pytest.raises(ValueError, match=word):
            gv.train_mlp(CFG, steps=1, x=X, y=Y, **kwargs)
