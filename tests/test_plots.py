"""Figure builders: log axes that never go blank, non-finite values as markers with notes."""

import numpy as np
import plotly.graph_objects as go

from gradviz import plots


def test_finite_values_plot_as_given():
    fig = plots.layer_norms_figure({"a": np.array([1e-3, 1e-2, 1e-1])})
    np.testing.assert_array_equal(fig.data[0].y, [1e-3, 1e-2, 1e-1])
    lo, hi = fig.layout.yaxis.range
    assert fig.layout.yaxis.type == "log" and lo < -3 and hi > -1


def test_non_finite_values_become_markers_with_a_note():
    fig = plots.layer_norms_figure({"g": np.array([1.0, 10.0, np.inf, np.nan, 0.0])})
    np.testing.assert_array_equal(fig.data[0].y, [1.0, 10.0, np.nan, np.nan, np.nan])
    overflow, zeros = fig.data[1], fig.data[2]
    assert list(overflow.x) == [2, 3] and len(overflow.y) == 2
    assert list(zeros.x) == [4]
    lo, hi = fig.layout.yaxis.range
    assert all(lo < np.log10(v) < hi for v in (*overflow.y, *zeros.y))
    note = fig.layout.annotations[0].text
    assert "overflowed float32" in note and "first at layer 2" in note and "exactly 0" in note


def test_all_non_finite_still_gives_an_axis():
    fig = plots.layer_norms_figure({"g": np.array([np.nan, np.inf])})
    assert fig.layout.yaxis.range == (-1.0, 1.0)
    assert len(fig.data[1].x) == 2


def test_update_writes_in_place():
    fw = go.FigureWidget(plots.layer_norms_figure({"a": np.ones(3), "b": None}))
    traces, layout = plots.layer_norms_update({"a": np.full(5, 2.0), "b": np.ones(5)})
    plots.apply_update(fw, traces, layout)
    np.testing.assert_array_equal(fw.data[0].y, [2.0] * 5)
    assert len(fw.data[1].y) == 5
    assert fw.layout.annotations[0].text == ""
