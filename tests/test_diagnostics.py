"""Synthetic data, Jacobian spectra, saturation and dead units, depth scales, new figures."""

import math

import jax
import numpy as np
import pytest

import gradviz as gv
from gradviz import data, plots, probes, theory


def test_teacher_regression_is_deterministic_and_learnable():
    x, y = data.teacher_regression(3, 256, in_dim=8, depth=2, width=16)
    x2, y2 = data.teacher_regression(3, 256, in_dim=8, depth=2, width=16)
    assert x.shape == (256, 8) and y.shape == (256, 1)
    np.testing.assert_array_equal(y, y2)
    cfg = gv.MLPConfig(depth=2, width=32, in_dim=8, activation="tanh")
    h = gv.train_mlp(cfg, optimizer="adam", learning_rate=1e-2, steps=300, x=x, y=y)
    assert h.loss[-1] < 0.05 * h.loss[0]  # a student of enough capacity fits its teacher


def test_two_spirals_geometry():
    x, y = data.two_spirals(0, 400, noise=0.0)
    r = np.linalg.norm(np.asarray(x), axis=1)
    assert np.all((r >= 0.05 - 1e-6) & (r <= 1 + 1e-6))
    assert set(np.unique(np.asarray(y))) == {-1.0, 1.0} and float(np.sum(y)) == 0.0
    # Noise-free, each point's angle is 2 pi turns r (+ pi for the second spiral).
    angle = np.arctan2(x[:, 1], x[:, 0])
    expected = 2 * np.pi * 1.5 * r + np.where(np.asarray(y[:, 0]) > 0, 0, np.pi)
    np.testing.assert_allclose(np.cos(angle - expected), 1.0, atol=1e-5)


def test_orthogonal_linear_network_is_isometric():
    cfg = gv.MLPConfig(depth=30, width=32, in_dim=32, activation="linear", init="orthogonal",
                       weight_scale=1.02)
    s = probes.jacobian_spectra(cfg)
    np.testing.assert_allclose(s["network"], 1.02**30, rtol=1e-4)
    for layer in s["layers"]:
        np.testing.assert_allclose(layer, 1.02, rtol=1e-5)


def test_layer_jacobian_of_linear_layer_is_its_weight_matrix():
    cfg = gv.MLPConfig(depth=3, width=16, in_dim=16, activation="linear", init="lecun")
    params = gv.init_mlp(cfg, jax.random.PRNGKey(0))
    s = probes.jacobian_spectra(cfg, params=params)
    expected = np.linalg.svd(np.asarray(params[1]["w"]), compute_uv=False)
    np.testing.assert_allclose(s["layers"][1], expected, rtol=1e-5, atol=1e-6)


def test_gaussian_spectrum_widens_with_depth():
    def spread(depth):
        cfg = gv.MLPConfig(depth=depth, width=64, in_dim=64, activation="linear", init="lecun")
        sv = probes.jacobian_spectra(cfg)["network"]
        return sv.max() / sv.min()

    assert spread(20) > 100 * spread(2)


def test_saturation_and_dead_units_match_a_numpy_forward_pass():
    for activation, scale in (("tanh", 3.0), ("relu", 1.0)):
        cfg = gv.MLPConfig(depth=6, width=32, activation=activation, init="he_normal",
                           weight_scale=scale, bias_scale=0.5)
        params = gv.init_mlp(cfg, jax.random.PRNGKey(1))
        x, _ = probes.default_batch(0, 128, cfg.in_dim, 1)
        stats = probes.activation_stats(cfg, params=params, x=x)
        h = np.asarray(x, np.float64)
        for l, layer in enumerate(params[:-1]):
            pre = h @ np.asarray(layer["w"]) + np.asarray(layer["b"])
            h = np.tanh(pre) if activation == "tanh" else np.maximum(pre, 0)
            if activation == "tanh":
                assert stats["saturated"][l] == pytest.approx(np.mean(np.abs(h) > 0.97), abs=1e-3)
            else:
                assert stats["dead"][l] == pytest.approx(np.mean(np.all(pre <= 0, axis=0)),
                                                         abs=1e-6)
            assert stats["var"][l] == pytest.approx(h.var(), rel=1e-3)
    assert stats["dead"].max() > 0  # deep ReLU stacks do lose units, even at He's scale


def test_depth_scale_and_rnn_conditions():
    assert theory.depth_scale(math.exp(-1)) == pytest.approx(1.0)
    assert theory.depth_scale(1.0) == math.inf and theory.depth_scale(math.e) == pytest.approx(-1)
    assert theory.rnn_regime(0.99, 1.0) == "vanishing guaranteed"
    assert theory.rnn_regime(3.9, 0.25) == "vanishing guaranteed"  # sigmoid: gamma = 1/4
    assert theory.rnn_regime(4.1, 0.25) == "exploding possible"
    # Equality: ||dL/dh|| can never exceed the last step's, nor must it decay.
    assert theory.rnn_regime(1.0, 1.0) == "bounded: cannot grow"
    assert theory.rnn_regime(4.0, 0.25) == "bounded: cannot grow"
    f32_one = float(np.nextafter(np.float32(1), np.float32(2)))  # 1.0000001
    assert theory.rnn_regime(f32_one, 1.0) == "bounded: cannot grow"
    assert theory.rnn_regime(float(np.nextafter(np.float32(1), np.float32(0))), 1.0) == (
        "bounded: cannot grow")
    assert theory.rnn_regime(1.00001, 1.0) == "exploding possible"
    assert theory.rnn_regime(0.99999, 1.0) == "vanishing guaranteed"
    # what the RNN explorer computes for an orthogonal recurrent matrix, in float32
    u = jax.nn.initializers.orthogonal()(jax.random.PRNGKey(0), (64, 64))
    sigma_max = float(np.linalg.svd(np.asarray(u), compute_uv=False)[0])
    assert theory.rnn_regime(sigma_max, 1.0) == "bounded: cannot grow", sigma_max
    assert theory.rnn_gradient_bound(0.5, 1.0, 10) == 0.5**10


def test_new_figures_mark_non_finite_values():
    g = np.array([[1.0, 2.0], [np.inf, 0.0]])
    fig = plots.grad_heatmap_figure(g)
    assert list(fig.data[1].x) == [0] and list(fig.data[2].x) == [1]
    assert "overflowed" in fig.layout.annotations[0].text
    hist = plots.histograms_figure({"layer 0": np.array([1e-3, 0.0, np.nan, 1e-2])})
    assert "1 zero, 1 inf/nan" in hist.data[0].name and len(hist.data[0].x) == 2
    spec = plots.spectrum_figure({"a": np.array([1.0, 3.0, 2.0])})
    np.testing.assert_array_equal(spec.data[0].y, [3.0, 2.0, 1.0])
    sw, sb = np.linspace(0.5, 2, 7), np.linspace(0, 1, 5)
    chi = np.array([[theory.chi("tanh", w, b) for w in sw] for b in sb])
    phase = plots.phase_diagram_figure(sw, sb, chi, measured={"sigma_w": [1.0], "sigma_b": [0.0],
                                                              "gain": [1.0]})
    assert phase.data[1].contours.start == 0 and len(phase.data[2].x) == 1


def test_training_callback_and_progress_bar(capsys):
    cfg = gv.MLPConfig(depth=3, width=8)
    seen = []
    gv.train_mlp(cfg, steps=5, callback=lambda t, n, loss: seen.append((t, n)))
    assert seen == [(t, 5) for t in range(5)]
    quiet = gv.widgets.ProgressBar()
    gv.train_mlp(cfg, steps=5, callback=quiet)
    assert quiet.bar is None  # fast runs show nothing
    slow = gv.widgets.ProgressBar(after_s=0.0)
    slow._start = -1.0  # pretend the run started a second ago
    gv.train_mlp(cfg, steps=5, callback=slow)
    assert slow.bar is not None and slow.bar.value == 5 and slow.bar.bar_style == "success"
