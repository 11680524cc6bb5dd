"""The notebook harness must catch a wrong stored number.

`make test` runs nbval in strict mode with tests/nbval_sanitize.cfg. This test copies a
committed lesson, changes one digit of a stored numeric output (in a cell nbval checks, and
outside anything the sanitizers rewrite), and runs the same nbval command on the copy: the
changed copy must fail and the untouched copy must pass.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import find_comment_markers, find_metadata_tags, get_sanitize_patterns

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SANITIZE = REPO / "tests" / "nbval_sanitize.cfg"
PREFERRED = "01_vanishing_vs_exploding.ipynb"
# Where to change a digit, best first: a decimal number (0.233, 7.19e-20), a standalone
# integer, then any digit (e.g. the 0 of "W_0").
NUMBERS = [
    re.compile(r"(?<![\w.])\d+\.\d+(?:[eE][-+]?\d+)?(?![\w.])|(?<![\w.])\d+[eE][-+]?\d+(?![\w.])"),
    re.compile(r"(?<![\w.])\d+(?![\w.])"),
    re.compile(r"\d"),
]


def pick_notebook() -> Path:
    preferred = NOTEBOOKS / PREFERRED
    if preferred.exists():
        return preferred
    found = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not found:
        pytest.skip(f"no committed notebooks in {NOTEBOOKS} to test the nbval harness on")
    return found[0]


def sanitize(text: str, patterns) -> str:
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


def checked_by_nbval(cell) -> bool:
    """True unless the cell is skipped, output-ignored or expected to raise."""
    options = dict(find_metadata_tags(cell.metadata))
    options.update(find_comment_markers(cell.source))
    if options.get("skip") or options.get("check_exception"):
        return False
    return options.get("check", True)


def text_fields(output):
    """(container, key) of each string that nbval compares in this output, stdout first."""
    if output.output_type == "stream" and output.get("name") == "stdout":
        yield output, "text"
    elif output.output_type in ("execute_result", "display_data"):
        for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
            if isinstance(output.data.get(mime), str):
                yield output.data, mime


def change_one_digit(text: str, patterns) -> str | None:
    """Return ``text`` with one digit of a number changed so that it differs after sanitizing."""
    for number_pattern in NUMBERS:
        for number in number_pattern.finditer(text):
            for i in range(number.start(), number.end()):
                if not text[i].isdigit():
                    continue
                new_digit = "7" if text[i] != "7" else "3"
                changed = text[:i] + new_digit + text[i + 1 :]
                if sanitize(changed, patterns) != sanitize(text, patterns):
                    return changed
    return None


def corrupt_first_checked_number(nb, patterns) -> tuple[int, str, str] | None:
    """Change one stored digit in place; return (cell index, old text, new text)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not checked_by_nbval(cell):
            continue
        for output in cell.get("outputs", []):
            for container, key in text_fields(output):
                changed = change_one_digit(container[key], patterns)
                if changed is not None:
                    old = container[key]
                    container[key] = changed
                    return index, old, changed
    return None


def run_nbval(notebook: Path, workdir: Path) -> subprocess.CompletedProcess:
    (workdir / "pytest.ini").write_text("[pytest]\n")  # isolate from the repo's pytest config
    env = {k: v for k, v in os.environ.items() if k != "GRADVIZ_BUILD_NOTEBOOKS"}
    cmd = [
        sys.executable, "-m", "pytest",
        "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
        str(notebook), "-p", "no:cacheprovider", "-q", "-c", str(workdir / "pytest.ini"),
    ]  # fmt: skip
    return subprocess.run(
        cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip


def test_nbval_fails_when_a_stored_number_changes(tmp_path):
    source = pick_notebook()
    patterns = get_sanitize_patterns(SANITIZE.read_text())
    nb = nbformat.read(source, as_version=4)
    found = corrupt_first_checked_number(nb, patterns)
    if found is None:
        pytest.skip(f"{source.name} stores no numeric output in a cell that nbval checks")
    index, old, new = found

    # Only the cells up to the changed one are needed: keeps both runs short.
    pristine = nbformat.read(source, as_version=4)
    pristine.cells = pristine.cells[: index + 1]
    nb.cells = nb.cells[: index + 1]
    (tmp_path / "pristine").mkdir()
    (tmp_path / "changed").mkdir()
    pristine_path = tmp_path / "pristine" / source.name
    changed_path = tmp_path / "changed" / source.name
    nbformat.write(pristine, pristine_path)
    nbformat.write(nb, changed_path)

    ok = run_nbval(pristine_path, tmp_path / "pristine")
    assert ok.returncode == 0, (
        f"untouched copy of {source.name} (cells 0..{index}) fails nbval:\n"
        f"{ok.stdout[-6000:]}\n{ok.stderr[-2000:]}"
    )

    bad = run_nbval(changed_path, tmp_path / "changed")
    assert bad.returncode == 1 and re.search(r"\b1 failed\b", bad.stdout), (
        f"nbval did not catch the changed output of cell {index} of {source.name}\n"
        f"stored: {old!r}\nchanged to: {new!r}\n"
        f"exit code {bad.returncode}\n{bad.stdout[-6000:]}\n{bad.stderr[-2000:]}"
    )


def run_nbval_numeric(notebook: Path, workdir: Path) -> subprocess.CompletedProcess:
    """nbval as `make test` runs it, tests/nbval_numeric.py loaded as the root conftest does."""
    (workdir / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k != "GRADVIZ_BUILD_NOTEBOOKS"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests"), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "pytest", "-p", "nbval_numeric",
           "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
           str(notebook), "-p", "no:cacheprovider", "-q", "-c", str(workdir / "pytest.ini")]
    return subprocess.run(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("marker, printed, passes", [
    ("# NBVAL_RTOL 0.1", "final loss 0.102 after 12 steps", True),    # 6.4% < 10%
    ("# NBVAL_RTOL 0.01", "final loss 0.102 after 12 steps", False),  # 6.4% > 1% + 0.001
    ("", "final loss 0.102 after 12 steps", False),                   # strict without a marker
    ("# NBVAL_RTOL 0.1", "final loss 0.102 after 13 steps", True),    # 13 vs 12: 7.7% < 10%
    ("# NBVAL_RTOL 0.1", "final loss 0.102 before 12 steps", False),  # the words must match
    ("# NBVAL_RTOL 0.1", "final loss nan after 12 steps", False),     # nan is not a number
    ("# NBVAL_RTOL 0.1", "final loss 0.1 after 12 steps", True),      # 0.1 vs 0.109: 8% < 10%
])
def test_rtol_marker_compares_numbers_within_the_declared_tolerance(tmp_path, marker, printed,
                                                                    passes):
    stored = "final loss 0.109 after 12 steps\n"
    cell = nbformat.v4.new_code_cell(f"{marker}\nprint({printed!r})".strip(), execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", name="stdout",
                                                                     text=stored)])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "rtol.ipynb"
    nbformat.write(nb, path)
    run = run_nbval_numeric(path, tmp_path)
    assert (run.returncode == 0) == passes, run.stdout[-3000:]


def test_a_table_that_realigns_still_agrees_but_other_text_does_not():
    from nbval_numeric import numbers_agree

    stored = "tanh + skips                 0.0072      2.91\nrelu   1.5"
    new = "tanh + skips                0.00745      2.91\nrelu   1.5"
    assert numbers_agree(stored, new, 0.1)
    assert not numbers_agree(stored, new, 0.01)  # the number moved past the tolerance
    assert not numbers_agree("a 1.0 b", "a 1.0 c", 0.5)
    assert not numbers_agree("a 1.0 b", "a 1.0\nb", 0.5)  # a line break is not alignment
