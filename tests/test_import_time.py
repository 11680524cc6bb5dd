"""`import gradviz` keeps jsonschema from loading rfc3987_syntax's IRI grammar (about 1.1 s, in
the first cell of every lesson), and changes nothing else a notebook relies on."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CODE = """
import sys
import gradviz
assert "rfc3987_syntax" not in sys.modules, "the IRI grammar was loaded"
assert "jsonschema" in sys.modules
import nbformat
nb = nbformat.read("notebooks/00_start_here.ipynb", as_version=4)
nbformat.validate(nb)  # nbformat's own schema check still runs
import jsonschema
assert "iri" not in jsonschema.FormatChecker.checkers  # the one thing given up
import rfc3987_syntax  # and the module itself still imports when asked for
assert rfc3987_syntax.is_valid_syntax("iri", "https://example.org/ü")
"""


def test_gradviz_imports_without_the_iri_grammar_and_nbformat_still_validates():
    run = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr[-3000:]


def test_a_kernel_that_already_loaded_jsonschema_is_left_alone():
    code = ("import jsonschema, sys; import gradviz; assert 'rfc3987_syntax' in sys.modules; "
            "assert 'iri' in jsonschema.FormatChecker.checkers")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
