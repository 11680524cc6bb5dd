"""Checks shared by the tests that drive every lesson's explorers."""


def assert_figure_shows_controls(ex):
    """The explorer's figure shows what its current control values measure, freshly computed."""
    import numpy as np

    from gradviz import widgets

    fresh = ex.compute()
    if isinstance(ex, widgets.GradientExplorer):
        shown = np.asarray(ex.figure.data[0].y, dtype=float)
        assert shown.shape == (ex.controls["depth"].value,)
        expected = fresh["weight_grad_norms"]
        ok = np.isfinite(expected) & (expected > 0)
        np.testing.assert_array_equal(np.isnan(shown), ~ok)
        np.testing.assert_allclose(shown[ok], expected[ok], rtol=1e-6)
        if ex.signal:
            shown = np.asarray(ex.signal_figure.data[0].y, dtype=float)
            expected = fresh["preactivation_vars"]
            ok = np.isfinite(expected) & (expected > 0)
            np.testing.assert_array_equal(np.isnan(shown), ~ok)
            np.testing.assert_allclose(shown[ok], expected[ok], rtol=1e-6)
        if ex.health:
            for trace, key in zip(ex.health_figure.data, ("saturated_fraction", "dead_fraction"),
                                  strict=True):
                np.testing.assert_allclose(np.asarray(trace.y, dtype=float), fresh[key])
    elif isinstance(ex, widgets.TransformerExplorer):
        for trace, placement in zip(ex.figure.data, ("pre", "post"), strict=False):
            shown = np.asarray(trace.y, dtype=float)
            expected = fresh[placement]["block_grad_norms"]
            assert shown.shape == (ex.controls["depth"].value,)
            ok = np.isfinite(expected) & (expected > 0)
            np.testing.assert_allclose(shown[ok], expected[ok], rtol=1e-6)
    elif isinstance(ex, widgets.PhaseExplorer):
        point = ex.figure.data[2]
        assert list(point.x) == [ex.controls["weight_scale"].value]
        assert list(point.y) == [ex.controls["bias_scale"].value]
        assert ex.figure.layout.meta == ex.controls["activation"].value
        np.testing.assert_allclose(ex.result["measured_chi"], fresh["measured_chi"], rtol=1e-6,
                                   equal_nan=True)
    elif isinstance(ex, widgets.RNNExplorer):
        for i, label in enumerate(ex.CELLS):
            shown = np.asarray(ex.figure.data[i].y, dtype=float)
            expected = fresh[label]
            ok = np.isfinite(expected) & (expected > 0)
            np.testing.assert_allclose(shown[ok], expected[ok], rtol=1e-6)
    elif isinstance(ex, widgets.TrainingExplorer):
        loss = np.asarray(ex.figure.data[0].y, dtype=float)
        ok = np.isfinite(fresh["loss"])
        np.testing.assert_array_equal(np.isnan(loss), ~ok)
        np.testing.assert_allclose(loss[ok], fresh["loss"][ok], rtol=1e-6)
        heat = np.asarray(ex.figure.data[6].z, dtype=float)
        assert heat.shape == (ex.controls["depth"].value, fresh["loss"].size)
        g = fresh["grad_norms"].T
        good = np.isfinite(g) & (g > 0)
        np.testing.assert_allclose(heat[good], np.log10(g[good]), rtol=1e-5, atol=1e-6)
        diverged = list(ex.figure.data[1].x)
        assert diverged == ([] if fresh["diverged_at"] is None else [fresh["diverged_at"]])
    elif isinstance(ex, widgets.MitigationExplorer):
        for trace, (label, expected) in zip(ex.figure.data, fresh["series"].items(),
                                            strict=False):
            assert trace.name == label
            shown = np.asarray(trace.y, dtype=float)
            if expected is None:
                assert shown.size == 0, label
                continue
            assert shown.shape == (ex.controls["depth"].value,)
            ok = np.isfinite(expected) & (expected > 0)
            np.testing.assert_allclose(shown[ok], expected[ok], rtol=1e-6, err_msg=label)
    elif isinstance(ex, widgets.ClippingExplorer):
        for k, key in enumerate(("free", "clipped")):
            loss = np.asarray(ex.figure.data[k].y, dtype=float)
            expected = fresh[key]["loss"]
            ok = np.isfinite(expected)
            np.testing.assert_array_equal(np.isnan(loss), ~ok)
            np.testing.assert_allclose(loss[ok], expected[ok], rtol=1e-6)
        applied = np.asarray(ex.figure.data[5].y, dtype=float)
        expected = fresh["clipped"]["update_norms"]
        good = np.isfinite(expected) & (expected > 0)
        np.testing.assert_allclose(applied[good], expected[good], rtol=1e-6)
    elif isinstance(ex, widgets.ActivationExplorer):
        table = ex._tables[ex.controls["activation"].value]
        np.testing.assert_allclose(np.asarray(ex.figure.data[1].y, dtype=float), table["dphi"])
        assert ex.result == fresh
    else:
        raise AssertionError(f"no state check for {type(ex).__name__}: add one here")
