"""Lesson 11's measured claims: Adam's epsilon, norm variants, the warm-up checker."""

import jax
import numpy as np
import pytest

import gradviz as gv
from gradviz.models.mlp import init_mlp


def test_adams_first_step_is_lr_g_over_abs_g_plus_eps():
    """optax.adam's first step is -lr * g / (|g| + eps): a vanishing gradient below eps
    gets lr * g / eps, not lr (the lesson's layer-0 claim)."""
    cfg = gv.MLPConfig(depth=20, width=16, activation="sigmoid", init="lecun")
    lr, eps = 1e-3, 1e-8
    before = init_mlp(cfg, jax.random.PRNGKey(0))
    x, y = gv.probes.default_batch(0, 256, cfg.in_dim, cfg.out_dim)
    _, grads = gv.probes.mse_loss_and_grads(before, x, y, cfg)
    h = gv.train_mlp(cfg, optimizer="adam", learning_rate=lr, steps=1, seed=0)
    for l in (0, 19):
        g = np.asarray(grads[l]["w"], np.float64)
        update = lr * g / (np.abs(g) + eps)
        ratio = np.linalg.norm(update) / np.linalg.norm(np.asarray(before[l]["w"], np.float64))
        assert h.update_ratios[0, l] == pytest.approx(ratio, rel=2e-3)
    step19 = np.asarray(h.params[19]["w"], np.float64) - np.asarray(before[19]["w"], np.float64)
    g19 = np.asarray(grads[19]["w"], np.float64)
    np.testing.assert_allclose(step19, -lr * g19 / (np.abs(g19) + eps), rtol=2e-3, atol=1e-9)
    assert np.abs(np.asarray(grads[0]["w"])).max() < 1e-3 * eps  # far below eps ...
    assert h.update_ratios[0, 0] < 1e-4 * h.update_ratios[0, 19]  # ... so a tiny step
    # ... mostly below what float32 weights can even hold: most of layer 0 does not change
    moved = np.asarray(h.params[0]["w"]) != np.asarray(before[0]["w"])
    assert moved.mean() < 0.5
    assert np.abs(np.asarray(h.params[0]["w"]) - np.asarray(before[0]["w"])).max() < 1e-7


def _first_over_last(**kwargs):
    cfg = gv.MLPConfig(depth=100, width=64, activation="tanh", **kwargs)
    d = gv.probe_mlp(cfg, seed=0, batch_size=128).activation_grad_norms
    return d[0] / d[-1]


def test_norms_make_the_profile_scale_free_and_rms_matches_layer_norm():
    layer = [_first_over_last(norm="layer", weight_scale=s) for s in (1.0, 2.5)]
    rms = [_first_over_last(norm="rms", weight_scale=s) for s in (1.0, 2.5)]
    plain = [_first_over_last(weight_scale=s) for s in (1.0, 2.5)]
    assert plain[1] / plain[0] > 1e8  # without a norm the weight scale decides everything
    assert layer[1] / layer[0] == pytest.approx(1.0, rel=0.1)
    np.testing.assert_allclose(rms, layer, rtol=0.1)
    both = [_first_over_last(norm="layer", residual=True, weight_scale=s) for s in (1.0, 2.5)]
    # skips + layer norm grow the least of the normalised variants (~1.05 per layer, ~110 over
    # 100 layers): still mild exploding by lesson 12's rule, which the lesson says
    assert max(both) < 0.1 * min(layer)
    assert all(10 < b < 1000 for b in both)


def test_check_warmup_steps():
    # lesson 11's post-LN transformer (tests/test_checkers_10_11.py has the full set)
    assert gv.exercises.check_warmup_steps(50)
    assert not gv.exercises.check_warmup_steps(0)
    assert not gv.exercises.check_warmup_steps(200)
    assert not gv.exercises.check_warmup_steps(None)
    assert not gv.exercises.check_warmup_steps(2.5)
