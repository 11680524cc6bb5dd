"""Loaded by pytest for every test and notebook in the repository (see tests/nbval_numeric.py)."""

import sys
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).parent / "tests"))

import nbval_numeric  # noqa: E402,F401  (patches nbval: cells marked NBVAL_RTOL compare numbers)

# The pytest process compiles for itself and never loads executables that other processes (the
# lesson kernels of nbval and of the browser tests) wrote to the persistent cache: in a
# fresh-clone CI run on 2026-12-02, XLA's deserialize_executable segfaulted once on such an entry
# (train_variants, from tests/test_infographic.py) and took the whole run down, while the same
# entry loaded fine on a rerun. The kernels keep using the cache, as a learner's do.
jax.config.update("jax_enable_compilation_cache", False)
