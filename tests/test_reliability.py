"""Bad input, non-finite numbers, slider storms, reproducibility and safety.

Everything here runs over the whole public API or over every explorer that every lesson
creates, so a fragile addition fails a test.
"""

import gc
import math
import re
import sys
import warnings
from pathlib import Path

import ipywidgets
import jax
import numpy as np
import psutil
import pytest
from explorer_checks import assert_figure_shows_controls
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ipywidgets.widgets.widget import _instances

import gradviz as gv
from gradviz import theory, widgets
from gradviz.train import _make_step

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from lesson_exec import LESSONS, code_cells, explorers_of  # noqa: E402

# ---------------------------------------------------------------- 1. validation, fuzzed

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-5, 300),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))


def _valid_int(v, low):
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _valid_real(v, low=0.0):
    return (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            and v >= low)


CONFIG_FIELDS = {
    "depth": (st.one_of(st.integers(-3, 40), ANYTHING), lambda v: _valid_int(v, 1)),
    "width": (st.one_of(st.integers(-3, 40), ANYTHING), lambda v: _valid_int(v, 1)),
    "activation": (st.one_of(st.sampled_from(gv.activations.NAMES), ANYTHING),
                   lambda v: v in gv.activations.NAMES),
    "init": (st.one_of(st.sampled_from(gv.init.NAMES), ANYTHING), lambda v: v in gv.init.NAMES),
    "weight_scale": (st.one_of(st.floats(-1, 5), ANYTHING), _valid_real),
    "bias_scale": (st.one_of(st.floats(-1, 2), ANYTHING), _valid_real),
    "residual": (st.one_of(st.booleans(), ANYTHING), lambda v: isinstance(v, bool)),
    "norm": (st.one_of(st.sampled_from(gv.models.mlp.NORMS), ANYTHING),
             lambda v: any(v is n or (isinstance(v, str) and v == n)
                           for n in gv.models.mlp.NORMS)),
    "in_dim": (st.one_of(st.integers(-2, 20), ANYTHING), lambda v: _valid_int(v, 1)),
}


@st.composite
def config_kwargs(draw):
    return {name: draw(strategy) for name, (strategy, _) in CONFIG_FIELDS.items()
            if draw(st.booleans())}


@settings(max_examples=1200, deadline=None)
@given(config_kwargs())
def test_fuzz_mlp_config(kwargs):
    valid = all(CONFIG_FIELDS[k][1](v) for k, v in kwargs.items())
    if valid:
        cfg = gv.MLPConfig(**kwargs)
        assert hash(cfg) is not None
    else:
        with pytest.raises(ValueError):
            gv.MLPConfig(**kwargs)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(gv.activations.NAMES), ANYTHING),
       st.one_of(st.floats(0, 6), ANYTHING), st.one_of(st.floats(0, 2), ANYTHING))
def test_fuzz_theory(activation, sigma_w, sigma_b):
    valid = activation in gv.activations.NAMES and _valid_real(sigma_w) and _valid_real(sigma_b)
    if valid:
        value = theory.chi(activation, sigma_w, sigma_b)
        assert value >= 0 and not math.isnan(value)
    else:
        with pytest.raises(ValueError):
            theory.chi(activation, sigma_w, sigma_b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(1, 4), activation=st.sampled_from(gv.activations.NAMES),
       init=st.sampled_from(gv.init.NAMES), weight_scale=st.floats(0, 5),
       clip=st.one_of(st.none(), st.floats(-1, 10), st.just(math.nan), st.just(math.inf)),
       norm=st.sampled_from(gv.models.mlp.NORMS), residual=st.booleans())
def test_fuzz_probe(depth, activation, init, weight_scale, clip, norm, residual):
    """Valid networks always give a result (finite or not); a bad clip_norm only ValueError."""
    cfg = gv.MLPConfig(depth=depth, width=8, activation=activation, init=init,
                       weight_scale=weight_scale, norm=norm, residual=residual)
    if clip is not None and not (math.isfinite(clip) and clip > 0):
        with pytest.raises(ValueError):
            gv.probe_mlp(cfg, batch_size=8, clip_norm=clip)
        return
    r = gv.probe_mlp(cfg, batch_size=8, clip_norm=clip)
    assert r.weight_grad_norms.shape == (depth,)


# ---------------------------------------------------------------- 2. non-finite numbers are data

EXPLODING = gv.MLPConfig(depth=100, width=64, activation="relu", init="he_normal", weight_scale=4)


def test_exploding_network_is_data_without_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = gv.probe_mlp(EXPLODING, batch_size=64, clip_norm=1.0)
        summary = gv.probes.summary(r)
        fig = gv.plots.layer_norms_figure({"w": r.weight_grad_norms,
                                           "h": r.activation_grad_norms})
        h = gv.train_mlp(EXPLODING, learning_rate=0.01, steps=5)
    assert caught == [], [str(w.message) for w in caught]
    assert not np.all(np.isfinite(r.weight_grad_norms))
    assert summary["non-finite layers"] > 0
    assert len(fig.data[2].x) > 0 and "overflowed float32" in fig.layout.annotations[0].text
    assert h.diverged_at == 0 and len(h.loss) == 1


def test_explorer_recovers_after_explosion():
    ex = gv.GradientExplorer(depth=100, activation="relu", init="he_normal")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex.controls["weight_scale"].value = 4.0
        assert len(ex.figure.data[4].x) > 0
        ex.controls["weight_scale"].value = 1.0
    assert caught == [], [str(w.message) for w in caught]
    assert len(ex.figure.data[4].x) == 0 and ex.figure.layout.annotations[0].text == ""
    assert np.all(np.isfinite(np.asarray(ex.figure.data[0].y, dtype=float)))


# ---------------------------------------------------------------- 3. slider storms


def _lesson_explorers():
    found = []
    for lesson in LESSONS:
        found += [(lesson.stem, i, ex) for i, ex in enumerate(explorers_of(lesson))]
    return found


@pytest.fixture(scope="module")
def lesson_explorers():
    return _lesson_explorers()


def _random_value(control, rng):
    values = widgets.sweep_values(control)
    if isinstance(control, ipywidgets.FloatLogSlider):
        return float(control.base ** rng.uniform(control.min, control.max))
    if isinstance(control, ipywidgets.IntSlider):
        return int(rng.integers(control.min, control.max + 1))
    return values[rng.integers(len(values))]


def test_slider_storm_every_lesson_explorer(lesson_explorers):
    rng = np.random.default_rng(0)
    assert lesson_explorers, "no lesson creates an explorer"
    for lesson, i, ex in lesson_explorers:
        figure, n_widgets = ex.figure, len(_instances)
        controls = dict(ex.controls)
        if getattr(ex, "presets", None):
            controls["preset"] = ex.preset
        names = list(controls)
        for _ in range(20):  # warm every path once (weights of each init are drawn lazily)
            c = controls[names[rng.integers(len(names))]]
            c.value = _random_value(c, rng)
        gc.collect()
        rss = psutil.Process().memory_info().rss
        for _ in range(200):
            c = controls[names[rng.integers(len(names))]]
            c.value = _random_value(c, rng)
        gc.collect()
        grown = (psutil.Process().memory_info().rss - rss) / 2**20
        assert grown < 50, f"{lesson} explorer {i}: RSS grew {grown:.1f} MB over the storm"
        assert ex.figure is figure and len(_instances) == n_widgets
        assert ex.errors.outputs == ()
        assert_figure_shows_controls(ex)  # the final values won: no stale update


# ---------------------------------------------------------------- 4. reproducibility


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_twice_in_fresh_kernels_gives_identical_checked_outputs(lesson, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    def checked_outputs():
        nb = nbformat.read(lesson, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        out = []
        for cell in nb.cells:
            if cell.cell_type != "code" or "NBVAL_IGNORE_OUTPUT" in cell.source:
                continue
            # One string per cell: how a kernel splits printed text into stream messages
            # depends on timing, not on the numbers (seen in lesson 08's cliff cell).
            out.append("".join(o.get("text") or o.get("data", {}).get("text/plain", "")
                               for o in cell.outputs))
        return out

    first, second = checked_outputs(), checked_outputs()
    assert first and first == second


SEEDLESS = re.compile(r"np\.random\.(?!default_rng\(\s*\w)|\bimport random\b|"
                      r"random\.seed\(\)|PRNGKey\(\s*\)|time\.time\(\)\s*\)")


def test_every_random_draw_has_an_explicit_seed():
    sources = {p: p.read_text() for p in (REPO / "gradviz").rglob("*.py")}
    sources.update({p: "\n".join(code_cells(p)) for p in LESSONS})
    offenders = [f"{p.name}: {m.group(0)}" for p, s in sources.items()
                 for m in SEEDLESS.finditer(s)]
    assert not offenders, offenders


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_explorer_cells_survive_out_of_order_reruns(lesson, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # what a lesson writes (lesson 12's export) stays out of the repo
    cells = code_cells(lesson)
    namespace = {"__name__": "__lesson__"}
    for source in cells:
        exec(compile(source, "cell", "exec"), namespace)  # noqa: S102
    for k, source in enumerate(cells):
        if "Explorer(" not in source:
            continue
        for j in (k, max(k - 2, 0), k):  # cell 5, then cell 3, then cell 5 again
            exec(compile(cells[j], "cell", "exec"), namespace)  # noqa: S102
        ex = widgets.live_explorers()[-1]
        for control in ex.controls.values():  # every control still answers
            values = [v for v in widgets.sweep_values(control) if v != control.value]
            control.value = values[0]
        assert ex.errors.outputs == ()
        assert_figure_shows_controls(ex)


# ---------------------------------------------------------------- 5. safety

FORBIDDEN = re.compile(r"\beval\(|\bexec\(|\bcompile\(|__import__|\bsubprocess\b|os\.system|"
                       r"\burllib\b|\brequests\b|http\.client|\bsocket\b|urlopen|"
                       r"pickle\.loads?\(|^\s*[!%]\s*pip\b", re.MULTILINE)


def test_no_network_and_no_evaluation_of_typed_text():
    sources = {p: p.read_text() for p in (REPO / "gradviz").rglob("*.py")}
    sources.update({p: "\n".join(code_cells(p)) for p in LESSONS})
    offenders = [f"{p.name}: {m.group(0)}" for p, s in sources.items()
                 for m in FORBIDDEN.finditer(s)]
    assert not offenders, offenders


def test_caches_are_bounded():
    assert _make_step.cache_info().maxsize is not None
    ex = gv.GradientExplorer(depth=3)
    for _ in range(3):
        for name in gv.init.NAMES:
            ex.controls["init"].value = name
    assert len(ex._stacks) <= len(gv.init.NAMES)
    assert jax.config.jax_compilation_cache_dir  # compiled code goes to disk, not RAM
