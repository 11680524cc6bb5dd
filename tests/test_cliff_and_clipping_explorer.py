"""Pascanu's cliff (a closed-form check of the one-unit RNN and of the clipped step) and
the clipping explorer (its numbers are the optax-clipped SGD runs it claims to show)."""

import numpy as np
import pytest

import gradviz as gv
from gradviz import cliff


def test_cliff_loss_matches_a_plain_python_recurrence_and_its_gradient():
    for w in (2.0, 4.5, 6.0, 20.0):  # off the wall, where float32 and float64 agree
        x = cliff.X0
        for _ in range(cliff.STEPS):
            x = w / (1 + np.exp(-x)) + (-w / 2 + cliff.OFFSET)
        loss, grad = cliff.along([w])
        assert loss[0] == pytest.approx((x - cliff.TARGET) ** 2, rel=1e-4, abs=1e-6)
        eps = 1e-3  # a central difference agrees with jax.grad
        lp, lm = cliff.along([w + eps])[0][0], cliff.along([w - eps])[0][0]
        assert grad[0] == pytest.approx((lp - lm) / (2 * eps), rel=2e-2, abs=1e-3)


def test_the_wall_has_a_gradient_a_hundred_times_larger_than_anywhere_else():
    ws = np.linspace(0.0, 70.0, 3501)
    _, far = cliff.along(ws[np.abs(ws - 4.9) > 0.2])
    _, at_wall = cliff.along([cliff.wall()])
    assert abs(at_wall[0]) > 100 * np.abs(far).max()


def test_one_clipped_step_on_the_wall_is_exactly_lr_times_c_and_the_unclipped_one_is_lr_g():
    w0 = cliff.wall()
    plain = cliff.descend(w0, 0.01, steps=2)
    clipped = cliff.descend(w0, 0.01, steps=2, clip_norm=1.0)
    assert plain["w"][1] - w0 == pytest.approx(-0.01 * plain["grad"][0], rel=1e-3)
    assert abs(plain["w"][1] - w0) > 10
    assert abs(clipped["w"][1] - w0) == pytest.approx(0.01, rel=1e-3)


def test_clip_gradient_keeps_direction_only_for_global_norm():
    import jax

    cfg = gv.MLPConfig(depth=6, width=16, activation="relu", init="he_normal", weight_scale=1.5)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    x, y = gv.data.teacher_regression(0, 64, 16)
    _, g = gv.probes.mse_loss_and_grads(params, x, y, cfg)
    total = float(gv.probes.tree_norm(g))
    by_norm = gv.train.clip_gradient(g, "global_norm", total / 100, params)
    assert gv.train.cosine(g, by_norm) == pytest.approx(1.0, abs=1e-6)
    assert float(gv.probes.tree_norm(by_norm)) == pytest.approx(total / 100, rel=1e-5)
    biggest = max(float(np.abs(np.asarray(leaf)).max()) for leaf in jax.tree.leaves(g))
    by_value = gv.train.clip_gradient(g, "value", biggest / 100, params)
    assert gv.train.cosine(g, by_value) < 0.99
    with pytest.raises(ValueError, match="params"):
        gv.train.clip_gradient(g, "agc", 0.1)


def test_clipping_explorer_runs_are_the_optax_clipped_sgd_runs():
    ex = gv.ClippingExplorer(depth=8, weight_scale=1.5, learning_rate=0.01, clip_threshold=10.0,
                             steps=20, batch_size=64)
    free, clipped = ex.result["free"], ex.result["clipped"]
    assert not np.isfinite(free["loss"][-1])  # the plain run explodes
    assert np.all(np.isfinite(clipped["loss"]))
    assert clipped["update_norms"].max() <= 0.01 * 10.0 * (1 + 1e-5)  # never above lr * c
    ref = gv.train_mlp(gv.MLPConfig(depth=8, width=32, activation="relu", init="he_normal",
                                    weight_scale=1.5), "sgd", 0.01, clip_norm=10.0, steps=20,
                       x=ex._x, y=ex._y)
    np.testing.assert_allclose(clipped["loss"], ref.loss, rtol=1e-4)
    ex.controls["method"].value = "by value"
    ref_v = gv.train_mlp(gv.MLPConfig(depth=8, width=32, activation="relu", init="he_normal",
                                      weight_scale=1.5), "sgd", 0.01, clip_norm=10.0,
                         clip="value", steps=20, x=ex._x, y=ex._y)
    got = ex.result["clipped"]["loss"]
    np.testing.assert_allclose(got, ref_v.loss[:got.size], rtol=1e-4)
