"""The transformer block against a plain re-implementation, and lesson 11's pre-/post-LN claims."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from explorer_checks import assert_figure_shows_controls

import gradviz as gv
from gradviz.attention_probes import default_batch, probe_transformer_stacked
from gradviz.models import attention


def _layer_norm(x):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)


def _reference(params, x, depth, placement, heads):
    """The same network written out in numpy, float64, softmax by hand."""
    x = np.asarray(x, np.float64)
    b, t, d = x.shape
    dh = d // heads

    def attn(p, x):
        q, k, v = np.split(x @ p["qkv"], 3, axis=-1)
        q, k, v = (a.reshape(b, t, heads, dh).transpose(0, 2, 1, 3) for a in (q, k, v))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        return (w @ v).transpose(0, 2, 1, 3).reshape(b, t, d) @ p["proj"]

    def mlp(p, x):
        hidden = np.asarray(jax.nn.gelu(x @ p["up"] + p["b_up"]), np.float64)
        return hidden @ p["down"] + p["b_down"]

    for l in range(depth):
        p = {k: np.asarray(v[l], np.float64) for k, v in params["blocks"].items()}
        if placement == "pre":
            x = x + attn(p, _layer_norm(x))
            x = x + mlp(p, _layer_norm(x))
        else:
            x = _layer_norm(x + attn(p, x))
            x = _layer_norm(x + mlp(p, x))
    if placement == "pre":
        x = _layer_norm(x)
    return x @ np.asarray(params["readout"], np.float64)


@pytest.mark.parametrize("placement", attention.PLACEMENTS)
def test_transformer_matches_a_numpy_reimplementation(placement):
    cfg = gv.TransformerConfig(depth=3, d_model=16, heads=2, seq_len=5, placement=placement)
    params = gv.init_transformer(cfg, jax.random.PRNGKey(0), max_depth=8)  # 5 unused blocks
    x, _ = default_batch(cfg, 0, 3)
    out = gv.apply_transformer(params, x, 3, attention.PLACEMENTS.index(placement), 0, heads=2)
    np.testing.assert_allclose(out, _reference(params, x, 3, placement, 2), rtol=2e-4, atol=2e-5)


def test_probe_gradients_equal_jax_grad_of_the_exact_depth_network():
    cfg = gv.TransformerConfig(depth=5, d_model=16, heads=4, seq_len=6, placement="post",
                               norm="rms")
    padded = gv.init_transformer(cfg, jax.random.PRNGKey(1), max_depth=16)
    exact = gv.init_transformer(cfg, jax.random.PRNGKey(1), max_depth=5)
    x, y = default_batch(cfg, 1, 4)
    out = probe_transformer_stacked(padded, x, y, 5, 1, 1, 1.0, heads=4)

    def loss(params, x):
        return jnp.mean((gv.apply_transformer(params, x, 5, 1, 1, heads=4) - y) ** 2)

    g, gx = jax.grad(loss, argnums=(0, 1))(exact, x)
    per_block = np.sqrt(sum(np.sum(np.asarray(a).reshape(5, -1) ** 2, axis=1)
                            for a in jax.tree_util.tree_leaves(g["blocks"])))
    np.testing.assert_allclose(out["block_grad_norms"][:5], per_block, rtol=1e-4)
    assert np.all(np.asarray(out["block_grad_norms"][5:]) == 0)
    # dL/dx_0 measured by the zero-shift trick = the gradient with respect to the input
    assert float(out["stream_grad_norms"][0]) == pytest.approx(float(jnp.linalg.norm(gx)),
                                                                rel=1e-4)
    assert float(out["loss"]) == pytest.approx(float(loss(exact, x)), rel=1e-5)


def _totals(depth, placement, seeds=range(5)):
    out = []
    for seed in seeds:
        r = gv.probe_transformer(gv.TransformerConfig(depth=depth, placement=placement),
                                 seed=seed, max_depth=32)
        out.append((np.sqrt(np.sum(r.block_grad_norms ** 2)), r.block_grad_norms[-1]))
    return np.array(out)  # (seeds, 2): all blocks, last block


def test_post_ln_gradients_outgrow_pre_ln_with_depth():
    """Xiong et al. 2020: post-LN's gradients grow with depth, pre-LN's last block does not."""
    pre4, post4 = _totals(4, "pre"), _totals(4, "post")
    pre32, post32 = _totals(32, "pre"), _totals(32, "post")
    assert np.all(post4[:, 0] / pre4[:, 0] < 2)        # shallow: about the same
    assert np.all(post32[:, 0] / pre32[:, 0] > 3)      # deep: post-LN several times larger
    assert np.all(post32[:, 1] / pre32[:, 1] > 3)      # ... at the output-side block too
    pre_last = pre32[:, 1].mean() / pre4[:, 1].mean()
    post_last = post32[:, 1].mean() / post4[:, 1].mean()
    assert 0.5 < pre_last < 1.5 and post_last > 3


def test_pre_ln_stream_grows_post_ln_stream_stays_normalised():
    pre = gv.probe_transformer(gv.TransformerConfig(depth=32, placement="pre"), max_depth=32)
    post = gv.probe_transformer(gv.TransformerConfig(depth=32, placement="post"), max_depth=32)
    assert pre.stream_rms[0] == pytest.approx(1.0, abs=0.05)
    assert pre.stream_rms[-1] > 3  # each block adds to the stream: its size grows with depth
    np.testing.assert_allclose(post.stream_rms[1:], 1.0, atol=1e-3)
    # pre-LN: the gradient on the early side is larger (later blocks see a longer stream)
    assert pre.block_grad_norms[:8].mean() > 1.3 * pre.block_grad_norms[-8:].mean()


def test_transformer_config_validates():
    with pytest.raises(ValueError, match="placement"):
        gv.TransformerConfig(placement="middle")
    with pytest.raises(ValueError, match="d_model"):
        gv.TransformerConfig(d_model=30, heads=4)
    with pytest.raises(ValueError, match="depth"):
        gv.TransformerConfig(depth=0)


def test_transformer_explorer_matches_probe_and_never_compiles(count_compiles):
    ex = gv.TransformerExplorer(depth=12)
    r = gv.probe_transformer(gv.TransformerConfig(depth=12, placement="post"), max_depth=32)
    np.testing.assert_allclose(ex.result["post"]["block_grad_norms"], r.block_grad_norms,
                               rtol=1e-5)
    with count_compiles() as counter:
        for control in ex.controls.values():
            for value in gv.widgets.sweep_values(control):
                control.value = value
    assert counter.count == 0, counter.names
    assert_figure_shows_controls(ex)


def test_overflowing_transformer_is_data_not_a_crash():
    """Weights far too large overflow float32; the probe returns the non-finite numbers (as
    every probe does) instead of raising."""
    post = gv.probe_transformer(gv.TransformerConfig(depth=8, placement="post", weight_scale=1e8))
    assert not np.all(np.isfinite(post.block_grad_norms))  # the gradients overflow ...
    np.testing.assert_allclose(post.stream_rms[1:], 1.0, atol=1e-3)  # ... the stream cannot
    for placement in attention.PLACEMENTS:
        r = gv.probe_transformer(gv.TransformerConfig(depth=8, placement=placement,
                                                      weight_scale=1e20))
        assert np.isnan(r.loss) and np.all(np.isnan(r.block_grad_norms))


# ---- the speed pass: branch-free norms/placements, jitted init, shared compiled probe ----

def test_branch_free_norm_layer_equals_normalize():
    from gradviz.models.mlp import normalize
    x = jax.random.normal(jax.random.PRNGKey(3), (2, 5, 16)) * 3 + 1
    for i, kind in enumerate(attention.NORMS):
        np.testing.assert_allclose(attention.norm_layer(i, x), normalize(kind, x),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("placement", attention.PLACEMENTS)
def test_rms_transformer_matches_a_numpy_reimplementation(placement, monkeypatch):
    """The branch-free block with RMSNorm: the numpy reference with its norm swapped."""
    def rms(x):
        return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-5)

    monkeypatch.setitem(globals(), "_layer_norm", rms)
    cfg = gv.TransformerConfig(depth=3, d_model=16, heads=2, seq_len=5, placement=placement,
                               norm="rms")
    params = gv.init_transformer(cfg, jax.random.PRNGKey(2), max_depth=4)
    x, _ = default_batch(cfg, 2, 3)
    out = gv.apply_transformer(params, x, 3, attention.PLACEMENTS.index(placement), 1, heads=2)
    np.testing.assert_allclose(out, _reference(params, x, 3, placement, 2), rtol=2e-4, atol=2e-5)


def test_jitted_init_equals_the_op_by_op_draw():
    cfg = gv.TransformerConfig(depth=3, d_model=16, heads=2, seq_len=4)
    jitted = gv.init_transformer(cfg, jax.random.PRNGKey(7), max_depth=5)
    with jax.disable_jit():
        eager = gv.init_transformer(cfg, jax.random.PRNGKey(7), max_depth=5)
    for a, b in zip(jax.tree_util.tree_leaves(jitted), jax.tree_util.tree_leaves(eager),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)  # the same draw, to rounding


def test_probe_down_grads_and_token_cosine_against_jax_grad_and_numpy():
    cfg = gv.TransformerConfig(depth=3, d_model=16, heads=2, seq_len=5, placement="pre")
    params = gv.init_transformer(cfg, jax.random.PRNGKey(4), max_depth=6)
    x, y = default_batch(cfg, 4, 3)
    out = probe_transformer_stacked(params, x, y, 3, 0, 0, 1.0, heads=2)

    def loss(params):
        return jnp.mean((gv.apply_transformer(params, x, 3, 0, 0, heads=2) - y) ** 2)

    g = jax.grad(loss)(params)["blocks"]["down"]
    np.testing.assert_allclose(out["down_grad_norms"][:3],
                               np.linalg.norm(np.asarray(g[:3]).reshape(3, -1), axis=1), rtol=1e-4)
    assert np.all(np.asarray(out["down_grad_norms"][3:]) == 0)
    # block 0's input is x itself: its token cosine after layer norm, in numpy
    u = _layer_norm(np.asarray(x, np.float64))
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    gram = np.einsum("btd,bsd->bts", u, u)
    want = np.mean((gram.sum(axis=(1, 2)) - 5) / 20)
    assert float(out["token_cosine"][0]) == pytest.approx(want, abs=1e-5)
