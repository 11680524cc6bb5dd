"""gradviz.cures against independent computations: probe_mlp seed by seed, and numpy."""

import jax
import numpy as np

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
