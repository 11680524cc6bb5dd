"""Seed spread: probe_seeds / train_seeds against probe_mlp / train_mlp seed by seed, and spread."""

import math

import numpy as np
import pytest

import gradviz as gv


def test_spread_format_and_percentiles():
    values = np.arange(1, 101) / 100  # 0.01 .. 1.00: median 0.505, p10 0.109, p90 0.901
    s = gv.spread(values)
    assert (s.median, s.low, s.high, s.n) == pytest.approx((0.505, 0.109, 0.901, 100))
    assert str(s) == "0.51 (10th-90th percentile 0.11-0.9)"
    assert str(gv.spread(values, digits=3)) == "0.505 (10th-90th percentile 0.109-0.901)"
    # the example of the docs, from three draws: p10 0.41 + 0.2 * 0.35, p90 0.76 + 0.8 * 0.74
    s = gv.spread([0.41, 0.76, 1.5])
    assert (s.low, s.median, s.high) == pytest.approx((0.48, 0.76, 1.352))
    assert str(s) == "0.76 (10th-90th percentile 0.48-1.4)"
    text = str(gv.spread([2e-7, 3e-7, 1.4e5, 2e5]))
    assert text.startswith("7e4 (10th-90th percentile 2.3e-7 to ")
    assert str(gv.spread([-0.5, -0.1, 0.3])) == "-0.1 (10th-90th percentile -0.42 to 0.22)"


def test_spread_counts_non_finite_draws_and_checks_input():
    s = gv.spread([1.0, 2.0, 3.0, math.inf, math.nan])
    assert (s.median, s.nonfinite, s.n) == (2.0, 2, 5)
    assert str(s).endswith("; 2 of 5 draws inf or nan, left out)")
    assert math.isnan(gv.spread([math.nan]).median)
    for bad in ([], [[1.0, 2.0]], 3.0):
        with pytest.raises(ValueError, match="values"):
            gv.spread(bad)


@pytest.mark.parametrize("cfg", [
    gv.MLPConfig(depth=12, width=32, activation="tanh", init="lecun", weight_scale=1.2,
                 bias_scale=0.1),
    gv.MLPConfig(depth=7, width=16, activation="relu", init="orthogonal", residual=True,
                 norm="layer"),
])
def test_probe_seeds_matches_probe_mlp_seed_by_seed(cfg):
    seeds = [0, 3, 7, 11, 12, 20, 31, 40, 41, 99]
    r = gv.probe_seeds(cfg, seeds=seeds, batch_size=32, clip_norm=0.5)
    assert r.activation_grad_norms.shape == r.weight_grad_norms.shape == (10, cfg.depth)
    assert r.loss.shape == (10,) and list(r.seeds) == seeds
    for i, s in enumerate(seeds):
        ref = gv.probe_mlp(cfg, seed=s, batch_size=32, clip_norm=0.5)
        np.testing.assert_allclose(r.activation_grad_norms[i], ref.activation_grad_norms,
                                   rtol=2e-5)
        np.testing.assert_allclose(r.weight_grad_norms[i], ref.weight_grad_norms, rtol=2e-5)
        np.testing.assert_allclose(r.clipped_weight_grad_norms[i], ref.clipped_weight_grad_norms,
                                   rtol=2e-5)
        np.testing.assert_allclose(r.activation_stds[i], ref.activation_stds, rtol=2e-5)
        assert r.loss[i] == pytest.approx(ref.loss, rel=2e-5)
        assert r.global_norm[i] == pytest.approx(ref.global_norm, rel=2e-5)
        ref_ratio = ref.activation_grad_norms[0] / ref.activation_grad_norms[-1]
        assert r.ratio[i] == pytest.approx(ref_ratio, rel=5e-5)
    # the draws differ: not one seed repeated
    assert len(np.unique(np.round(r.loss, 6))) == 10


def test_probe_seeds_shared_batch_and_health():
    cfg = gv.MLPConfig(depth=10, width=32, activation="tanh", weight_scale=2.0)
    x, y = gv.data.teacher_regression(0, 64, 16)
    r = gv.probe_seeds(cfg, seeds=range(10), x=x, y=y)
    for s in (0, 9):
        ref = gv.probe_mlp(cfg, seed=s, x=x, y=y)
        np.testing.assert_allclose(r.activation_grad_norms[s], ref.activation_grad_norms,
                                   rtol=2e-5)
        stats = gv.probes.activation_stats(cfg, seed=s, x=x)
        np.testing.assert_allclose(r.saturated_fraction[s], stats["saturated"], atol=1e-6)


def test_a_new_seed_list_or_setting_compiles_nothing(count_compiles):
    cfg = gv.MLPConfig(depth=20, width=32, activation="tanh")
    gv.probe_seeds(cfg, seeds=range(12), batch_size=64)  # warm: the one compile
    with count_compiles() as counter:
        a = gv.probe_seeds(cfg, seeds=range(100, 112), batch_size=64)
        b = gv.probe_seeds(gv.MLPConfig(depth=25, width=32, activation="sigmoid",
                                        weight_scale=2, bias_scale=0.5, residual=True),
                           seeds=range(50, 62), batch_size=64)
    assert counter.count == 0, counter.names
    assert a.activation_grad_norms.shape == (12, 20) and b.activation_grad_norms.shape == (12, 25)


def test_probe_seeds_checks_its_arguments():
    cfg = gv.MLPConfig(depth=3, width=8)
    for seeds, match in (([], "empty"), ([1, -1], "seed=-1"), ([1.5], "seed=1.5"),
                         (5, "iterable"), ([2**31], "seed=2147483648")):
        with pytest.raises(ValueError, match=match):
            gv.probe_seeds(cfg, seeds=seeds)
    with pytest.raises(ValueError, match="cfg="):
        gv.probe_seeds("tanh")
    with pytest.raises(ValueError, match="x and y"):
        gv.probe_seeds(cfg, x=np.zeros((4, 16), np.float32))


def test_train_seeds_matches_train_mlp_seed_by_seed(count_compiles):
    """Including a seed that diverges while the others go on."""
    cfg = gv.MLPConfig(depth=8, width=16, activation="relu", init="he_normal", weight_scale=1.3)
    seeds = list(range(10))
    r = gv.train_seeds(cfg, seeds=seeds, learning_rate=0.01, steps=25, batch_size=64)
    assert r.loss.shape == (10, 25) and r.grad_norms.shape == (10, 25, 8)
    for i, s in enumerate(seeds):
        ref = gv.train_mlp(cfg, "sgd", 0.01, steps=25, seed=s, batch_size=64)
        n = len(ref.loss)
        assert r.steps_done[i] == n and r.diverged_at[i] == ref.diverged_at
        ok = n if ref.diverged_at is None else n - 1  # the divergent step: inf or nan
        np.testing.assert_allclose(r.loss[i, :ok], ref.loss[:ok], rtol=1e-4)
        np.testing.assert_allclose(r.grad_norms[i, :ok], ref.grad_norms[:ok], rtol=1e-4)
        np.testing.assert_allclose(r.update_ratios[i, :ok], ref.update_ratios[:ok], rtol=1e-4)
        assert np.isfinite(r.loss[i, n - 1]) == np.isfinite(ref.loss[-1])
        assert np.all(np.isnan(r.loss[i, n:]))
        assert r.final_loss[i] == pytest.approx(ref.loss[-1], rel=1e-4, nan_ok=True)
    assert any(d is not None for d in r.diverged_at) and any(d is None for d in r.diverged_at)
    with count_compiles() as counter:  # other seeds, learning rate, clipping: one program
        c = gv.train_seeds(cfg, seeds=range(10, 20), learning_rate=0.02, steps=25,
                           batch_size=64, clip_norm=1.0)
    assert counter.count == 0, counter.names
    ref = gv.train_mlp(cfg, "sgd", 0.02, clip_norm=1.0, steps=25, seed=13, batch_size=64)
    assert c.diverged_at[3] == ref.diverged_at
    np.testing.assert_allclose(c.loss[3, :len(ref.loss)], ref.loss, rtol=1e-4)


def test_train_seeds_checks_its_arguments():
    with pytest.raises(ValueError, match="bias_scale"):
        gv.train_seeds(gv.MLPConfig(depth=3, bias_scale=0.1))
    with pytest.raises(ValueError, match="learning_rate"):
        gv.train_seeds(gv.MLPConfig(depth=3), learning_rate=0.0)
    with pytest.raises(ValueError, match="clip"):
        gv.train_seeds(gv.MLPConfig(depth=3), clip="sign")


def test_probe_seeds_on_a_deeper_bucket_gives_the_same_numbers():
    """max_depth only picks the compiled program: the draw and the loops do not change."""
    cfg = gv.MLPConfig(depth=10, width=16, activation="sigmoid")
    a = gv.probe_seeds(cfg, seeds=range(3), batch_size=32)
    b = gv.probe_seeds(cfg, seeds=range(3), batch_size=32, max_depth=50)
    for key in ("activation_grad_norms", "weight_grad_norms", "activation_stds", "loss"):
        np.testing.assert_allclose(getattr(b, key), getattr(a, key), rtol=1e-5)
    with pytest.raises(ValueError, match="max_depth"):
        gv.probe_seeds(cfg, seeds=range(3), max_depth=0)
