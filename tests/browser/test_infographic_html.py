"""Lesson 12's exported infographic opens on its own: a file:// page, no server, no kernel,
no network, and every panel drawn by the plotly.js embedded in it."""

from __future__ import annotations

from pathlib import Path

HTML = (Path(__file__).resolve().parents[2] / "notebooks" / "infographic"
        / "gradviz_infographic.html")

DRAWN = """() => {
  const div = document.getElementById('gradviz-infographic');
  return window.Plotly !== undefined && div && div._fullLayout &&
         div.querySelectorAll('.main-svg').length > 0 && div.querySelectorAll('.table').length > 0;
}"""


def test_infographic_html_opens_with_no_kernel_and_no_network(browser):
    assert HTML.exists(), f"{HTML} is missing: run notebooks/12_infographic.ipynb (make notebooks)"
    page = browser.new_page()
    errors, requests = [], []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("request", lambda req: requests.append(req.url))
    try:
        page.goto(HTML.as_uri(), wait_until="load")
        page.wait_for_function(DRAWN, timeout=60_000, polling=200)
        traces = page.evaluate("() => document.getElementById('gradviz-infographic').data"
                               ".map((t) => t.type || 'scatter')")
        # 3 profiles + 3 loss curves + 2 cause series (measured, predicted), 1 fix bar, the
        # guide and the vanishing-vs-exploding table
        assert sorted(traces) == sorted(["scatter"] * 8 + ["bar"] + ["table"] * 2)
        lines = page.evaluate("() => document.querySelectorAll("
                              "'#gradviz-infographic .scatterlayer .trace path.js-line').length")
        assert lines >= 5  # the curves were drawn (the exploding loss is a single point)
        text = page.inner_text("#gradviz-infographic")
        for word in ("vanishing", "healthy", "exploding", "Decision guide"):
            assert word in text
        assert errors == []
        assert all(url.startswith(("file:", "data:", "blob:")) for url in requests), requests
    finally:
        page.close()
