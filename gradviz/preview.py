"""Static previews: a PNG of every figure in the committed lessons, for readers without a kernel.

A live widget needs a running kernel. A lesson opened before it is run (in JupyterLab, or
on GitHub) would show "Error displaying widget: model not found", or nothing. So while
``scripts/execute_notebooks.py`` builds the committed copy it sets
``GRADVIZ_BUILD_NOTEBOOKS=1``, and then:

* every explorer's output carries, next to its widget view, a PNG of its figure;
* plain plotly figures render as plotly JSON *and* PNG (GitHub shows only the PNG);
* quizzes carry a static HTML copy of their question.

The script then deletes the widget views from the saved outputs. A reader of the committed
file sees the pictures; a learner who runs the lesson gets only the live widget (no
environment variable, so no PNG in the bundle). PNGs are drawn by kaleido with Debian's
``/usr/bin/chromium``; without a browser the preview is simply left out.
"""

from __future__ import annotations

import base64
import functools
import os
import warnings

BUILD_ENV = "GRADVIZ_BUILD_NOTEBOOKS"


def building() -> bool:
    """True while the committed copy of the lessons is being built."""
    return os.environ.get(BUILD_ENV) == "1"


@functools.cache
def _kaleido_ready() -> bool:
    """Start kaleido's browser once (~2 s) so each PNG then costs ~0.15 s."""
    try:
        import kaleido

        kaleido.start_sync_server(silence_warnings=True)
        return True
    except Exception:  # no kaleido or no browser: previews are optional
        return False


def png(fig, *, width: int = 900) -> str | None:
    """Base64 PNG of a plotly figure (a ``FigureWidget`` works too), or None if none can be made."""
    if not _kaleido_ready():
        return None
    import plotly.graph_objects as go

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kaleido's "kopts argument is ignored" and the like
        try:
            data = go.Figure(fig).to_image(format="png", width=width)
        except Exception:
            return None
    return base64.b64encode(data).decode("ascii")


def enable_figure_pngs() -> None:
    """While building: plain figures render as plotly JSON plus a PNG."""
    import plotly.io

    if building() and _kaleido_ready():
        # plotly warns on every export through the running kaleido server; nothing is wrong
        warnings.filterwarnings("ignore", message="The kopts argument is ignored")
        plotly.io.renderers.default = "plotly_mimetype+png"
        plotly.io.renderers["png"].width = 900
