"""Loaded by pytest for every test and notebook in the repository (see tests/nbval_numeric.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "tests"))

import nbval_numeric  # noqa: E402,F401  (patches nbval: cells marked NBVAL_RTOL compare numbers)
