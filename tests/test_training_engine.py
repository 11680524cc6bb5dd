"""The compile-free training engine, the live saturation probe and TrainingExplorer.

Each is checked against a second method: ``train_stacked`` against ``train_mlp`` (plain
``jax.grad`` of the list-of-layers model), the live health fractions against
``activation_stats``, the clipped SGD step against ``lr * min(||g||, c)``.
"""

import warnings

import jax
import numpy as np
import optax
import pytest
from explorer_checks import assert_figure_shows_controls

import gradviz as gv
from gradviz import activations, init, probes, train, widgets
from gradviz.models.mlp import init_mlp_stacked

X, Y = gv.data.teacher_regression(0, 64, 16)
CASES = [("tanh", "lecun", 1.0, 0.05, None), ("relu", "he_normal", 1.0, 0.02, 0.5),
         ("sigmoid", "xavier_normal", 2.0, 0.5, None), ("relu", "he_normal", 2.5, 0.05, None)]


def _stack(init_name, width=16, max_depth=30):
    return init_mlp_stacked(jax.random.PRNGKey(0), init.NAMES.index(init_name), 0.01,
                            in_dim=16, width=width, out_dim=1, max_depth=max_depth)


@pytest.mark.parametrize("act,init_name,scale,lr,clip", CASES)
def test_train_stacked_matches_jax_grad_training(act, init_name, scale, lr, clip):
    depth = 9
    cfg = gv.MLPConfig(depth=depth, width=16, activation=act, init=init_name,
                       weight_scale=scale)
    ref = gv.train_mlp(cfg, "sgd", lr, clip_norm=clip, steps=25, seed=0, x=X, y=Y)
    out = jax.device_get(train.train_stacked(
        _stack(init_name), X, Y, depth, activations.NAMES.index(act), scale, lr,
        -1.0 if clip is None else clip, steps=25))
    done = int(out["done"])
    assert done == len(ref.loss)
    # diverged_at is set exactly when a loss is not finite, and names the first such step
    bad = np.flatnonzero(~np.isfinite(ref.loss))
    assert ref.diverged_at == (int(bad[0]) if bad.size else None)
    np.testing.assert_allclose(out["loss"][:done], ref.loss, rtol=2e-5)
    np.testing.assert_allclose(out["grad_norms"][:done, :depth], ref.grad_norms, rtol=2e-5)
    np.testing.assert_allclose(out["update_ratios"][:done, :depth], ref.update_ratios,
                               rtol=2e-5)
    # the layers past depth are never used: zero gradient, zero update
    assert not out["grad_norms"][:, depth:].any() and not out["update_ratios"][:, depth:].any()


def test_divergence_stops_both_loops_at_the_same_step():
    cfg = gv.MLPConfig(depth=9, width=16, activation="relu", init="he_normal", weight_scale=2.5)
    ref = gv.train_mlp(cfg, "sgd", 0.05, steps=25, x=X, y=Y)
    assert ref.diverged_at is not None and ref.diverged_at > 0  # a finite start, then inf/nan
    out = train.train_stacked(_stack("he_normal"), X, Y, 9, activations.NAMES.index("relu"),
                              2.5, 0.05, -1.0, steps=25)
    assert int(out["done"]) == ref.diverged_at + 1
    assert not np.isfinite(out["loss"][ref.diverged_at])
    assert np.all(np.isfinite(out["loss"][:ref.diverged_at]))


def test_sgd_with_clipping_never_applies_an_update_longer_than_lr_times_c():
    cfg = gv.MLPConfig(depth=12, width=32, activation="relu", init="he_normal", weight_scale=1.6)
    lr, c = 0.01, 1.0
    raw = gv.train_mlp(cfg, "sgd", lr, steps=1)
    h = gv.train_mlp(cfg, "sgd", lr, clip_norm=c, steps=50)
    assert h.diverged_at is None
    assert np.all(h.update_norms <= lr * c * (1 + 1e-6))
    # the first step's gradient is far above c, so that update is exactly lr * c long
    grads = probes.mse_loss_and_grads(gv.init_mlp(cfg, jax.random.PRNGKey(0)),
                                      *probes.default_batch(0, 256, 16, 1), cfg)[1]
    assert float(optax.tree.norm(grads)) > 10 * c
    np.testing.assert_allclose(h.update_norms[0], lr * c, rtol=1e-5)
    np.testing.assert_allclose(raw.update_norms[0], lr * float(optax.tree.norm(grads)),
                               rtol=1e-5)


@pytest.mark.parametrize("act,init_name,scale", [
    ("tanh", "lecun", 2.0), ("sigmoid", "lecun", 3.0), ("relu", "he_normal", 1.0),
    ("gelu", "xavier_normal", 1.5), ("linear", "lecun", 1.0)])
def test_live_health_fractions_match_activation_stats(act, init_name, scale):
    cfg = gv.MLPConfig(depth=15, width=32, activation=act, init=init_name, weight_scale=scale)
    stats = probes.activation_stats(cfg, seed=0, batch_size=64)
    stack = _stack(init_name, width=32, max_depth=40)
    x, y = probes.default_batch(0, 64, 16, 1)
    out = jax.device_get(probes.probe_stacked(stack, x, y, 15, activations.NAMES.index(act),
                                              w_mult=scale, b_mult=0.0, health=True))
    np.testing.assert_array_equal(out["saturated_fraction"][:15], stats["saturated"])
    np.testing.assert_array_equal(out["dead_fraction"][:15], stats["dead"])
    assert not out["saturated_fraction"][15:].any() and not out["dead_fraction"][15:].any()
    if act == "linear":
        assert not stats["saturated"].any() and not stats["dead"].any()


@pytest.mark.parametrize("sigma_w", [1.5, 2.5, 4.0])
def test_deep_tanh_saturation_matches_the_mean_field_fixed_point(sigma_w):
    """Deep layers have h ~ N(0, q*): P(|tanh h| > 0.97) = erfc(atanh(0.97) / sqrt(2 q*))."""
    from math import atanh, erfc, sqrt

    cfg = gv.MLPConfig(depth=30, width=256, weight_scale=sigma_w)
    measured = probes.activation_stats(cfg, batch_size=256)["saturated"][15:].mean()
    predicted = erfc(atanh(0.97) / sqrt(2 * gv.theory.q_star("tanh", sigma_w, 0.0)))
    assert abs(measured - predicted) < 0.02, (measured, predicted)


def test_training_explorer_shows_the_run_and_compiles_nothing_after_display(count_compiles):
    ex = widgets.TrainingExplorer(depth=6, steps=30, max_depth=20)
    assert_figure_shows_controls(ex)
    with count_compiles() as counter:
        for control in ex.controls.values():
            start = control.value
            for value in widgets.sweep_values(control):
                control.value = value
            control.value = start
    assert counter.count == 0, counter.names
    assert_figure_shows_controls(ex)


def test_training_explorer_marks_divergence_and_recovers():
    ex = widgets.TrainingExplorer(depth=20, steps=40, max_depth=20)
    assert ex.result["diverged_at"] is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex.controls["weight_scale"].value = 4.0
        assert ex.result["diverged_at"] is not None
        assert list(ex.figure.data[1].x) == [ex.result["diverged_at"]]
        assert "Diverged" in ex.status.value
        ex.controls["weight_scale"].value = 1.0
    assert caught == [], [str(w.message) for w in caught]
    assert ex.result["diverged_at"] is None and list(ex.figure.data[1].x) == []
    assert_figure_shows_controls(ex)


def test_gradient_explorer_health_panel_follows_the_controls():
    ex = widgets.GradientExplorer(depth=10, activation="tanh", health=True, max_depth=20)
    ex.controls["weight_scale"].value = 4.0
    assert_figure_shows_controls(ex)
    assert np.asarray(ex.health_figure.data[0].y)[-5:].mean() > 0.45  # q* = 13: 55% saturated
    ex.controls["activation"].value = "relu"
    assert_figure_shows_controls(ex)
    assert np.asarray(ex.health_figure.data[1].y).max() > 0  # some dead ReLUs


def test_train_mlp_learning_rate_and_clip_sweeps_compile_nothing_new(count_compiles):
    cfg = gv.MLPConfig(depth=4, width=8)
    for clip in (None, 1.0):
        gv.train_mlp(cfg, "adam", 0.01, clip_norm=clip, steps=2, batch_size=16)
    with count_compiles() as counter:
        for lr in (1e-4, 0.03, 0.5):
            for clip in (None, 0.1, 10.0):
                gv.train_mlp(cfg, "adam", lr, clip_norm=clip, steps=2, batch_size=16)
    assert counter.count == 0, counter.names


def test_train_many_matches_train_mlp_run_by_run():
    """One vmapped program for several networks, rates and seeds: every run is train_mlp's
    (plain jax.grad on the list of layers), divergence and clipping included."""
    shape = dict(depth=6, width=16)
    nets = {"sigmoid": gv.MLPConfig(**shape, activation="sigmoid"),
            "relu": gv.MLPConfig(**shape, activation="relu", init="he_normal"),
            "bn skips": gv.MLPConfig(**shape, activation="tanh", norm="batch", residual=True)}
    runs = [("sigmoid", 0.1, 0), ("relu", 0.05, 3), ("relu", 30.0, 0), ("bn skips", 0.02, 1)]
    for clip_norm in (None, 0.5):
        got = train.train_many(nets, runs, steps=25, x=X, y=Y, clip_norm=clip_norm)
        for (name, lr, seed), h in zip(runs, got, strict=True):
            ref = gv.train_mlp(nets[name], "sgd", lr, clip_norm=clip_norm, steps=25, seed=seed,
                               x=X, y=Y)
            assert h.diverged_at == ref.diverged_at
            np.testing.assert_allclose(h.loss, ref.loss, rtol=1e-5)
            for key in ("grad_norms", "update_ratios", "update_norms"):
                np.testing.assert_allclose(getattr(h, key), getattr(ref, key), rtol=1e-4)
            for a, b in zip(jax.tree.leaves(h.params), jax.tree.leaves(ref.params), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert train.train_many(nets, runs, steps=25, x=X, y=Y)[2].diverged_at is not None


def test_train_many_without_norms_trains_the_same_runs():
    """norms=False drops the per-layer records, nothing else: the same losses and weights,
    bit for bit, a diverged run included (it stops computing after its divergent step)."""
    nets = {"relu": gv.MLPConfig(depth=6, width=16, activation="relu", init="he_normal"),
            "tanh": gv.MLPConfig(depth=6, width=16, activation="tanh", residual=True)}
    runs = [("relu", 0.05, 3), ("relu", 30.0, 0), ("tanh", 0.02, 1)]
    full = train.train_many(nets, runs, steps=25, x=X, y=Y)
    lean = train.train_many(nets, runs, steps=25, x=X, y=Y, norms=False)
    assert full[1].diverged_at is not None
    for a, b in zip(full, lean, strict=True):
        assert a.diverged_at == b.diverged_at
        np.testing.assert_array_equal(a.loss, b.loss)
        for u, v in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
            np.testing.assert_array_equal(u, v)
        assert b.grad_norms is None and b.update_ratios is None and b.update_norms is None
    with pytest.raises(ValueError, match="norms"):
        train.train_many(nets, runs, steps=5, norms="yes")


def test_train_many_with_adamw_and_weight_decay_matches_train_mlp():
    """Lesson 08's weight-decay table: AdamW runs over seeds, the decay traced (0.1 and 1.0
    share one program)."""
    nets = {"relu": gv.MLPConfig(depth=6, width=16, activation="relu", init="he_normal",
                                 weight_scale=1.2)}
    runs = [("relu", 1e-3, 0), ("relu", 3e-3, 2)]
    for wd in (0.0, 0.1, 1.0):
        got = train.train_many(nets, runs, steps=20, x=X, y=Y, optimizer="adamw", weight_decay=wd)
        for (name, lr, seed), h in zip(runs, got, strict=True):
            ref = gv.train_mlp(nets[name], "adamw", lr, steps=20, seed=seed, x=X, y=Y,
                               weight_decay=wd)
            np.testing.assert_allclose(h.loss, ref.loss, rtol=1e-5)
            for a, b in zip(jax.tree.leaves(h.params), jax.tree.leaves(ref.params), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="weight_decay"):
        train.train_many(nets, runs, steps=5, weight_decay=-1.0)
    with pytest.raises(ValueError, match="optimizer"):
        train.train_many(nets, runs, steps=5, optimizer="lbfgs")


def test_train_many_checks_its_arguments():
    nets = {"a": gv.MLPConfig(depth=3, width=8)}
    with pytest.raises(ValueError, match="runs"):
        train.train_many(nets, [], steps=5)
    with pytest.raises(ValueError, match="name"):
        train.train_many(nets, [("b", 0.1, 0)], steps=5)
    with pytest.raises(ValueError, match="learning_rate"):
        train.train_many(nets, [("a", -1.0, 0)], steps=5)
    with pytest.raises(ValueError, match="same"):
        train.train_many({**nets, "c": gv.MLPConfig(depth=4, width=8)}, [("a", 0.1, 0)], steps=5)
