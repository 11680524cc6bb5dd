"""Loaded by pytest for every test and notebook in the repository (see tests/nbval_numeric.py)."""

import gc
import sys
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).parent / "tests"))

import nbval_numeric  # noqa: E402,F401  (patches nbval: cells marked NBVAL_RTOL compare numbers)

# The pytest process compiles for itself and never loads executables that other processes (the
# lesson kernels of nbval and of the browser tests) wrote to the persistent cache, so what a unit
# test measures never depends on which lessons ran before it. The kernels keep using the cache,
# as a learner's do.
jax.config.update("jax_enable_compilation_cache", False)


# Every program XLA compiles for the CPU stays mapped into the process (its code and data
# sections: 300-600 memory maps for one of gradviz's training or probe programs) for as long as
# JAX's caches hold it. Linux refuses a process more than vm.max_map_count maps (65,530 by
# default), and XLA aborts when a compile cannot map its code: the whole unit-test run compiles
# a few hundred programs in this one process, and on 2026-12-07 it aborted in
# tests/test_infographic.py with 65,288 maps (the segfault of 2026-12-02 was the same limit,
# met while loading). So between test modules (module-scoped fixtures are gone by then) the
# caches are emptied once the process holds a quarter of the limit, after any test once it holds
# half (every test that counts compiles warms its programs up itself), and between modules
# always where the maps cannot be counted. The unit tests peaked at 44,017 maps with this in place;
# a lesson kernel, which compiles a few dozen programs, ends below 5,300 (all 13 lessons measured).
def _map_count_and_limit():
    try:
        with open("/proc/self/maps") as maps, open("/proc/sys/vm/max_map_count") as limit:
            return sum(1 for _ in maps), int(limit.read())
    except OSError:
        return None, None


def pytest_runtest_teardown(item, nextitem):
    same_module = nextitem is not None and nextitem.path == item.path
    count, limit = _map_count_and_limit()
    if count is None:
        full = not same_module
    else:
        full = count > limit // (2 if same_module else 4)
    if full:
        jax.clear_caches()
        gc.collect()
