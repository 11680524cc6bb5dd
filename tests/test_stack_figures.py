"""plots.stack_figures: an explorer's static preview keeps every panel and legend."""

import numpy as np

from gradviz import plots


def test_stack_keeps_every_trace_axis_and_legend():
    a = plots.layer_norms_figure({"norm": np.array([1.0, 10.0, 100.0])}, title="top")
    b = plots.layer_fractions_figure({"dead": np.array([0.0, 0.5, 1.0])}, title="bottom")
    out = plots.stack_figures([a, b])
    assert len(out.data) == len(a.data) + len(b.data)
    lower = [t for t in out.data if t.yaxis == "y2"]
    assert [t.name for t in lower] == ["dead"] and lower[0].legend == "legend2"
    np.testing.assert_allclose(lower[0].y, [0.0, 0.5, 1.0])
    assert out.layout.yaxis.type == "log" and out.layout.yaxis2.range == (-0.03, 1.03)
    top, bottom = out.layout.yaxis.domain, out.layout.yaxis2.domain
    assert bottom[1] < top[0]  # panels do not overlap
    assert out.layout.height == a.layout.height + b.layout.height + 40
    assert {"<b>top</b>", "<b>bottom</b>"} <= {x.text for x in out.layout.annotations}


def test_one_figure_is_returned_as_is():
    a = plots.layer_norms_figure({"norm": np.array([1.0, 2.0])}, title="only")
    assert plots.stack_figures([a]).layout.title.text == "only"
