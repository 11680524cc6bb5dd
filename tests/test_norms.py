"""Normalisation layers and skip connections in the MLP: definitions, gradients, and what
they do to the gradient profile of a deep network (against a paper's closed form)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from finite_differences import weight_grad_fd

import gradviz as gv
from gradviz import probes
from gradviz.models.mlp import NORMS, normalize

H = np.random.default_rng(0).normal(1.0, 3.0, size=(7, 5))  # (batch, width)


def test_normalize_matches_textbook_formulas():
    eps = gv.models.mlp.EPS
    batch = (H - H.mean(0)) / np.sqrt(H.var(0) + eps)
    layer = (H - H.mean(1, keepdims=True)) / np.sqrt(H.var(1, keepdims=True) + eps)
    rms = H / np.sqrt((H**2).mean(1, keepdims=True) + eps)
    for kind, want in (("batch", batch), ("layer", layer), ("rms", rms), (None, H)):
        np.testing.assert_allclose(normalize(kind, jnp.asarray(H)), want, rtol=2e-5, atol=2e-6)


def _case(norm, residual, activation="tanh", depth=3):
    cfg = gv.MLPConfig(depth=depth, width=5, in_dim=4, out_dim=2, activation=activation,
                       bias_scale=0.3, residual=residual, norm=norm)
    params = gv.init_mlp(cfg, jax.random.PRNGKey(3))
    x, y = probes.default_batch(1, 6, 4, 2)
    return cfg, params, x, y


@pytest.mark.parametrize("norm", ["batch", "layer", "rms"])
def test_stacked_probe_matches_central_finite_differences_through_norm_layers(norm):
    with jax.enable_x64(True):
        cfg, params, x, y = _case(norm, residual=True)
        params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), params)
        x, y = jnp.asarray(x, jnp.float64), jnp.asarray(y, jnp.float64)
        r = probes.probe_stacked(gv.stack_params(params), x, y, cfg.depth,
                                 gv.activations.NAMES.index("tanh"), residual=True,
                                 norm_index=NORMS.index(norm))
        loss = jax.jit(lambda p: jnp.mean((gv.apply_mlp(p, x, cfg) - y) ** 2))
        for l in range(cfg.depth):
            fd = weight_grad_fd(loss, params, l)
            np.testing.assert_allclose(r["weight_grad_norms"][l], np.linalg.norm(fd), rtol=1e-6)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("residual", [False, True])
def test_stacked_probe_and_health_match_jax_grad_and_activation_stats(norm, residual):
    cfg, params, x, y = _case(norm, residual, activation="relu", depth=6)
    ref = probes.probe_unrolled(params, x, y, "relu", residual=residual, norm_layer=norm)
    st = probes.probe_stacked(gv.stack_params(params), x, y, cfg.depth,
                              gv.activations.NAMES.index("relu"), residual=residual,
                              norm_index=NORMS.index(norm), health=True)
    for key in ("weight_grad_norms", "activation_grad_norms", "activation_stds"):
        np.testing.assert_allclose(st[key], ref[key], rtol=2e-5, err_msg=key)
    stats = jax.device_get(probes._activation_stats(params, x, "relu", residual, norm))
    for key, ours in (("mean", "activation_means"), ("var", "activation_vars"),
                      ("saturated", "saturated_fraction"), ("dead", "dead_fraction")):
        np.testing.assert_allclose(st[ours], stats[key], rtol=2e-5, atol=1e-7, err_msg=key)


def _span(cfg):
    d = gv.probe_mlp(cfg, seed=0, batch_size=128).weight_grad_norms
    return float(d.max() / d.min())


def test_batch_norm_and_skips_keep_a_depth_50_sigmoid_network_in_range():
    """At depth 50 a plain sigmoid net's per-layer ||dL/dW_l|| span ~31 orders of magnitude;
    batch norm or a skip connection brings that under 3."""
    base = dict(depth=50, width=64, activation="sigmoid", init="lecun")
    plain = _span(gv.MLPConfig(**base))
    bn = _span(gv.MLPConfig(**base, norm="batch"))
    skip = _span(gv.MLPConfig(**base, residual=True))
    assert plain > 1e25
    assert bn < 20 and skip < 1e3
    assert plain / bn > 1e24 and plain / skip > 1e22
    # Layer norm is no cure for sigmoid: it rescales each example but keeps the shared
    # offset sigmoid's mean of 0.5 puts into every pre-activation.
    assert _span(gv.MLPConfig(**base, norm="layer")) > 1e15


def test_batch_norm_relu_gradients_explode_at_the_mean_field_rate():
    """Yang et al. 2019 (A Mean Field Theory of Batch Normalization): with batch norm, a
    ReLU network's squared gradient grows by pi / (pi - 1) ~ 1.467 per layer backwards."""
    cfg = gv.MLPConfig(depth=50, width=128, activation="relu", init="he_normal", norm="batch")
    r = gv.probe_mlp(cfg, seed=0, batch_size=256)
    gain = probes.per_layer_gain(r.activation_grad_norms)
    assert gain == pytest.approx(np.pi / (np.pi - 1), rel=0.05)
    plain = gv.probe_mlp(gv.MLPConfig(depth=50, width=128, activation="relu",
                                      init="he_normal"), seed=0, batch_size=256)
    assert probes.per_layer_gain(plain.activation_grad_norms) == pytest.approx(1.0, abs=0.05)


def test_jacobian_spectra_refuses_batch_norm_with_a_clear_error():
    with pytest.raises(ValueError, match="norm='batch'"):
        probes.jacobian_spectra(gv.MLPConfig(depth=2, norm="batch"))


def test_train_variants_equals_train_mlp_with_norm_layers_and_skips():
    """One compiled program for many networks gives what jax.grad training gives."""
    x, y = gv.data.teacher_regression(0, 64, 16)
    nets = {"bn": gv.MLPConfig(depth=6, width=16, activation="sigmoid", norm="batch"),
            "skip+rms": gv.MLPConfig(depth=6, width=16, activation="tanh", residual=True,
                                     norm="rms", weight_scale=1.3)}
    runs = gv.train.train_variants(nets, learning_rate=0.05, steps=15, x=x, y=y)
    for name, cfg in nets.items():
        ref = gv.train_mlp(cfg, "sgd", 0.05, steps=15, x=x, y=y)
        np.testing.assert_allclose(runs[name].loss, ref.loss, rtol=2e-5, err_msg=name)
        np.testing.assert_allclose(runs[name].grad_norms, ref.grad_norms, rtol=1e-4, err_msg=name)
        np.testing.assert_allclose(runs[name].update_ratios, ref.update_ratios, rtol=1e-4)
        # the final weights come back in init_mlp's layout, equal to jax.grad training's
        assert len(runs[name].params) == len(ref.params) == cfg.depth + 1
        for got, want in zip(runs[name].params, ref.params, strict=True):
            np.testing.assert_allclose(got["w"], want["w"], rtol=1e-4, atol=1e-6, err_msg=name)
            np.testing.assert_allclose(got["b"], want["b"], rtol=1e-4, atol=1e-6, err_msg=name)


def test_unstack_params_inverts_stack_params():
    from gradviz.models.mlp import unstack_params

    for depth in (1, 2, 5):
        params = gv.init_mlp(gv.MLPConfig(depth=depth, width=8), jax.random.PRNGKey(depth))
        back = unstack_params(gv.stack_params(params), depth)
        assert len(back) == len(params)
        for got, want in zip(back, params, strict=True):
            np.testing.assert_array_equal(got["w"], want["w"])
            np.testing.assert_array_equal(got["b"], want["b"])


def test_train_variants_rejects_networks_of_different_shapes():
    with pytest.raises(ValueError, match="depth, width"):
        gv.train.train_variants({"a": gv.MLPConfig(depth=3), "b": gv.MLPConfig(depth=4)})
    with pytest.raises(ValueError, match="bias_scale"):
        gv.train.train_variants({"a": gv.MLPConfig(depth=3, bias_scale=0.1)})


def test_mitigation_explorer_toggles_and_batch_norm_scale_invariance():
    ex = gv.MitigationExplorer(depth=30, relu=False, batch_norm=True, residual=False, lstm=False)
    names = [t.name for t in ex.figure.data]
    shown = {t.name: np.asarray(t.y, dtype=float) for t in ex.figure.data}
    assert shown[ex.FIXES["relu"]].size == 0 and shown[ex.RNN].size == 0
    bn = shown[ex.FIXES["batch_norm"]]
    # every curve is relative to its last layer
    assert bn[-1] == pytest.approx(1.0) and shown[ex.PLAIN][-1] == pytest.approx(1.0)
    assert shown[ex.PLAIN][0] < 1e-15 and 0.3 < bn[0] < 3
    ex.controls["weight_scale"].value = 2.0
    bn2 = np.asarray(ex.figure.data[names.index(ex.FIXES["batch_norm"])].y, dtype=float)
    plain2 = np.asarray(ex.figure.data[names.index(ex.PLAIN)].y, dtype=float)
    assert abs(np.log10(bn2[0] / bn[0])) < 0.1  # batch norm: the scale hardly matters
    assert abs(np.log10(plain2[0] / shown[ex.PLAIN][0])) > 3  # without it: orders of magnitude
    ex.controls["lstm"].value = True
    rnn = np.asarray(ex.figure.data[names.index(ex.RNN)].y, dtype=float)
    lstm = np.asarray(ex.figure.data[names.index(ex.LSTM)].y, dtype=float)
    assert rnn.shape == lstm.shape == (30,) and lstm[0] > 3 * rnn[0]
