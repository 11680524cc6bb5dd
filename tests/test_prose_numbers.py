"""Every number a lesson's prose quotes was measured above it (or is an exact derivation).

Prose that quotes an older run, a rounding that is wrong, or a number nobody printed fails
here. What counts as a quoted number and as backed is defined in tests/prose_numbers.py. A
number the prose derives by arithmetic (``0.9^{99} \\approx 3 \\times 10^{-5}``) is backed by the
formula listed for its lesson in DERIVED, evaluated here, never by a typed-in value.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pytest
from prose_numbers import Quoted, backed, notebook_texts, quoted_numbers, source_numbers, unbacked
from scipy import special, stats

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# Arithmetic the prose does on exact inputs, per lesson: formula -> what it is.
DERIVED = {
    "01": {"1.1 ** 29 / 0.9 ** 29": "factors 1.1 and 0.9 over 29 layers, compared",
           "10 ** 0.03": "the lowest weight-scale slider setting (10^(k/100)) passing exercise 1",
           "10 ** 0.07": "the highest one"},
    "02": {
        "1 + 0.5": "check_chain_factor's tolerance, a factor 1 + rel_tol",
        "100 * (10 ** 0.01 - 1)": "the weight-scale slider's step (10^0.01), in percent",
        "10 ** -0.1": "the slider setting nearest the exercise's answer",
        "10 ** (-0.1 * 29)": "the chain's ratio at that setting",
        "0.9 ** 99": "a factor 0.9 over 100 layers",
        "1.1 ** 99": "a factor 1.1 over 100 layers",
        "1e-3 ** (1 / 29)": "the factor whose 29th power is 1e-3",
        "100 * (1 - 1e-3 ** (1 / 29))": "how far below 1 that factor is, in percent",
    },
    "00": {"1e-18": "the example of a quoted number; lesson 00's first table prints it"},
    "03": {
        "0.97": "the saturation rule's tanh threshold (gv.activations)",
        "0.03": "the saturation rule's sigmoid threshold (gv.activations)",
        "0.01": "the 'normal' init's default std",
        "math.atanh(0.97)": "where |tanh h| = 0.97",
        "stats.norm.ppf(0.75)": "half of a Gaussian lies beyond this many standard deviations",
        "math.atanh(0.97) / stats.norm.ppf(0.75)": "the sqrt(q*) that puts half the units past it",
        "55": "the exercise's upper bound, percent",
        "45": "the exercise's lower bound, percent",
        "10 ** 0.52": "the lowest weight-scale slider setting (10^(k/100)) that passes exercise 1",
        "10 ** 0.59": "the highest one",
        "10 ** -0.7": "learning-rate slider settings (10^(k/20)) that pass exercise 2",
        "10 ** -0.65": "(the next one)",
        "10 ** -0.6": "(the next one)",
    },
    "04": {"5e-4": "check_update_ratio's lower bound", "2e-3": "check_update_ratio's upper bound",
           "1.5 ** 19": "weight scale 1.5 over 19 ReLU layers",
           "2 ** -24": "float32 unit roundoff (half an ulp of 1)",
           "10 ** 1.45": "the lowest clip slider setting (10^(k/20)) that passes exercise 2"},
    "05": {"1.1 ** 29 / 0.9 ** 29": "a 10% change of sigma_w over 29 layers",
           "0.07": "check_edge_of_chaos's tolerance",
           "0.25 + 24 * 0.05": "a PhaseExplorer sigma_w slider value (min 0.25, step 0.05)"},
    "06": {"0.1 ** (1 / 49)": "the per-step factor that keeps 10% after 49 steps",
           "1 - 0.1 ** (1 / 49)": "its complement",
           "special.expit(3)": "a forget gate with bias 3"},
    "07": {"0.1": "the explorer's weight-scale slider minimum"},
    "08": {"0.7": "the cliff's target", "1e4": "the explorer's clip-threshold slider maximum"},
    "09": {"6": "the flat-part rule: |phi'| below 6% of its maximum"},
    "11": {"1e-8": "optax.adam's default eps"},
    "10": {"math.sqrt(6)": "the uniform init's scale that makes n Var(W) = 2",
           "0.5 ** (29 / 2)": "a ReLU signal halved in variance for 29 layers, as a norm",
           "100 * 0.035": "check_uniform_relu_scale's tolerance on the per-layer factor, percent",
           "100 * (10 ** 0.01 - 1)": "the weight-scale slider's step (log10 step 0.01), percent",
           "10 ** 0.38": "a setting of that slider", "10 ** 0.39": "its next setting"},
}


def _lesson(path: Path) -> str:
    return path.name[:2]


def _derived(lesson: str) -> list[float]:
    env = {"math": math, "stats": stats, "special": special}
    return [abs(float(eval(formula, env))) for formula in DERIVED.get(lesson, {})]  # noqa: S307


def unbacked_in(nb, lesson: str) -> list[str]:
    """Quoted numbers of ``nb`` that nothing *before* them backs: the outputs and code of the
    cells above a markdown cell, or of the code cell right after it (the one it introduces).
    A number printed only further down is a forward reference to a result the learner has
    not seen, and the usual sign of prose left over from an older run (08 once quoted a
    stale 1.01 that matched an unrelated output below)."""
    derived = _derived(lesson)
    seen, pending, missing = [], [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            pending.append(i)
            continue
        if cell.cell_type != "code":
            continue
        seen += source_numbers(notebook_texts(_only(nb, cell))[1])
        for j in pending:  # markdown cells that introduce this one see it too
            missing += [f"c{j}: {q.text}" for q in quoted_numbers(nb.cells[j].source)
                        if not backed(q, seen + derived)]
        pending = []
    missing += [f"c{j}: {q.text}" for j in pending for q in quoted_numbers(nb.cells[j].source)
                if not backed(q, seen + derived)]
    return missing


def _only(nb, cell):
    """A copy of ``nb`` holding just ``cell`` (for :func:`notebook_texts`)."""
    one = nbformat.v4.new_notebook()
    one.cells = [cell]
    return one


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_quotes_only_measured_numbers(path):
    nb = nbformat.read(path, as_version=4)
    missing = unbacked_in(nb, _lesson(path))
    assert not missing, (
        f"{path.name}: numbers in the prose that no output, code setting or DERIVED formula of "
        f"the lesson gives at the precision shown: {missing}")


def test_a_changed_prose_number_fails():
    """Tamper test: move one backed decimal of a lesson's prose by two units in its last digit."""
    path = next(p for p in NOTEBOOKS if p.name.startswith("03"))
    nb = nbformat.read(path, as_version=4)
    assert not unbacked_in(nb, "03")
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for q in quoted_numbers(cell.source):
            if q.text[0].isdigit() and "." in q.text and q.text.replace(".", "").isdigit():
                decimals = len(q.text.partition(".")[2])
                changed = f"{q.value + 7 * q.unit:.{decimals}f}"
                cell.source = cell.source.replace(q.text, changed, 1)
                assert unbacked_in(nb, "03"), f"changing {q.text} to {changed} went unnoticed"
                return
    pytest.fail("no decimal in lesson 03's prose to tamper with")


@pytest.mark.parametrize("markdown, expected", [
    ("a factor of about 0.23 per layer", [0.23]),
    ("around $5 \\times 10^{-19}$ of it", [5e-19]),
    ("loss 1.9e-6, and 45% dead", [1.9e-6, 45.0]),
    ("about 340 times, in 30 layers of width 64", [340.0]),
    ("$\\sigma'(z) \\le 1/4$, `lr=0.03`, [05](05_x.ipynb), $W_{l+1}$, arXiv:1502.01852", []),
    ("first layer $10^{-18}$ and 10⁻¹⁸", [1e-18, 1e-18]),
])
def test_quoted_numbers_are_read(markdown, expected):
    assert [q.value for q in quoted_numbers(markdown)] == pytest.approx(expected)


def test_precision_is_the_one_shown():
    sources = [0.7612, 337.0, 4.61e-19]
    assert backed(Quoted("0.76", 0.76, 0.01, False), sources)
    assert not backed(Quoted("0.77", 0.77, 0.01, False), sources)
    assert not backed(Quoted("0.761", 0.761, 0.001, False), [0.7625])
    assert backed(Quoted("about 340", 340.0, 10.0, False), sources)
    assert not backed(Quoted("about 330", 330.0, 10.0, False), sources)
    assert backed(Quoted("4.6e-19", 4.6e-19, 1e-20, False), sources)
    assert backed(Quoted("76%", 76.0, 1.0, True), sources)
    assert not backed(Quoted("1e-5", 1e-5, 1e-5, False, pow10=True), [1.9e-6])


def test_unbacked_reports_cell_and_number():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The ratio is 0.42."),
        nbformat.v4.new_code_cell("print(0.43)", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="0.43\n")]),
    ])
    assert unbacked(nb) == ["c0: 0.42"]


def test_a_number_printed_only_further_down_fails():
    """Prose must quote what the learner has just seen: the cells above it, or the code cell
    it introduces; an output two sections later does not back it."""
    new = nbformat.v4
    def nb(*cells):
        book = new.new_notebook()
        book.cells = list(cells)
        return book
    def code(text):
        cell = new.new_code_cell("pass")
        cell.outputs = [new.new_output("stream", name="stdout", text=text)]
        return cell
    quote, intro = new.new_markdown_cell("the ratio is 4.56"), new.new_markdown_cell("next")
    assert unbacked_in(nb(quote, code("7\n"), intro, code("4.56\n")), "xx") == ["c0: 4.56"]
    assert unbacked_in(nb(quote, code("4.56\n"), intro, code("7\n")), "xx") == []
    assert unbacked_in(nb(code("4.56\n"), intro, code("7\n"), quote), "xx") == []
