"""gradviz.cures against independent computations: probe_mlp seed by seed, and numpy."""

import jax
import numpy as np
import pytest

import gradviz as gv


def test_profile_table_is_the_median_of_probe_mlp_over_seeds():
    cfg = gv.MLPConfig(depth=6, width=16, activation="tanh", init="lecun")
    rnn = gv.RNNConfig(cell="rnn", hidden=8, init="orthogonal", seq_len=5)
    rows = gv.cures.profile_table({"net": cfg}, {"rnn": rnn}, seeds=range(10), batch_size=32,
                                  rnn_batch=8)
    ratios = []
    for s in range(10):
        d = gv.probe_mlp(cfg, seed=s, batch_size=32).activation_grad_norms
        ratios.append(d[0] / d[-1])
    np.testing.assert_allclose(rows["net"]["first / last"], np.median(ratios), rtol=1e-4)
    np.testing.assert_allclose(rows["net"]["10th pct"], np.percentile(ratios, 10), rtol=1e-4)
    np.testing.assert_allclose(rows["net"]["per-layer factor"] ** 5, rows["net"]["first / last"],
                               rtol=1e-6)
    r = [gv.probe_rnn(rnn, seed=s, batch_size=8).hidden_grad_norms for s in range(10)]
    np.testing.assert_allclose(rows["rnn"]["first / last"], np.median([d[0] / d[-1] for d in r]),
                               rtol=1e-6)


def test_output_offset_splits_the_loss_exactly():
    cfg = gv.MLPConfig(depth=4, width=16, activation="relu", init="he_normal", in_dim=3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)).astype(np.float32)
    y = rng.standard_normal((50, 1)).astype(np.float32)
    out = gv.cures.output_offset(cfg, x, y, seeds=range(3))
    for i, s in enumerate(range(3)):
        f = np.asarray(gv.apply_mlp(gv.init_mlp(cfg, jax.random.PRNGKey(s)), x, cfg), np.float64)
        loss = np.mean((f - y) ** 2)
        centred = np.mean(((f - f.mean()) - (y - y.mean())) ** 2)
        np.testing.assert_allclose(out["loss"][i], loss, rtol=1e-5)
        np.testing.assert_allclose(out["offset_part"][i], loss - centred, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(out["offset"][i], f.mean() - y.mean(), rtol=1e-4, atol=1e-6)


def test_training_table_is_train_mlp_seed_by_seed_judged_held_out():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    y = np.sin(x[:, :1] * 2).astype(np.float32)
    x_test = rng.standard_normal((30, 4)).astype(np.float32)
    y_test = np.sin(x_test[:, :1] * 2).astype(np.float32)
    nets = {"tanh": gv.MLPConfig(depth=3, width=8, activation="tanh", in_dim=4),
            "relu + skips": gv.MLPConfig(depth=3, width=8, activation="relu", init="he_normal",
                                         in_dim=4, residual=True)}
    rows, runs = gv.cures.training_table(nets, x=x, y=y, x_test=x_test, y_test=y_test,
                                         seeds=range(4), learning_rate=0.1, steps=30)
    baseline = float(np.mean((y_test - y.mean()) ** 2))
    for name, cfg in nets.items():
        alone = [gv.train_mlp(cfg, "sgd", 0.1, steps=30, seed=s, x=x, y=y) for s in range(4)]
        np.testing.assert_array_equal(runs[name][2].loss, alone[2].loss)
        held = [float(gv.evaluate(cfg, h.params, x_test, y_test).loss) for h in alone]
        held = [v if np.isfinite(v) else np.inf for v in held]  # one skip run overflows here
        np.testing.assert_allclose(rows[name]["final"], np.median([h.loss[-1] for h in alone]),
                                   rtol=1e-6)
        np.testing.assert_allclose(rows[name]["held-out"], np.median(held), rtol=1e-5)
        assert rows[name]["< 0.9 x baseline"] == f"{sum(v < 0.9 * baseline for v in held)} of 4"
    assert rows["tanh"]["held-out"] < 0.9 * baseline  # it learns something of sin(2 x_0)
    assert rows["relu + skips"]["10th-90th"].endswith("(1 inf)")


def test_training_table_caps_chaotic_medians_and_reports_accuracy():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    labels = rng.integers(0, 3, 32)
    y = np.eye(3, dtype=np.float32)[labels]
    net = {"huge": gv.MLPConfig(depth=3, width=8, activation="relu", init="normal",
                                init_std=30.0, in_dim=4, out_dim=3)}
    rows, _ = gv.cures.training_table(net, x=x, y=y, x_test=x, y_test=y, labels_test=labels,
                                      seeds=range(3), learning_rate=0.1, steps=5, cap=10.0)
    assert rows["huge"]["loss at 0"] > 10  # weights of std 30: outputs in the thousands
    assert rows["huge"]["final"] == "above 10"
    assert 0 <= rows["huge"]["accuracy"] <= 1
    with pytest.raises(ValueError, match="nets"):
        gv.cures.training_table({}, x=x, y=y, x_test=x, y_test=y)


def test_median_loss_counts_a_cut_run_as_inf():
    h = [gv.train.TrainHistory(np.array(v), None, None, None, None, None)
         for v in ([1.0, 0.5, 0.2], [3.0, 2.0], [2.0, 1.0, 0.1])]
    np.testing.assert_array_equal(gv.cures.median_loss(h), [2.0, 1.0, 0.2])
