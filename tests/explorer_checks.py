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
    else:
        raise AssertionError(f"no state check for {type(ex).__name__}: add one here")
