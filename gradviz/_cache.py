"""A persistent XLA compilation cache, so a lesson's second run starts in about a second."""

from __future__ import annotations

import os
import pathlib

import jax


def enable() -> str | None:
    """Point JAX's persistent compilation cache at a project-local folder.

    Uses ``$GRADVIZ_CACHE_DIR``, else ``.jax_cache`` beside the package (a source
    checkout), else ``~/.cache/gradviz/jax``. Leaves a cache the user configured alone.
    """
    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    candidates = [os.environ.get("GRADVIZ_CACHE_DIR"),
                  pathlib.Path(__file__).resolve().parents[1] / ".jax_cache",
                  pathlib.Path.home() / ".cache" / "gradviz" / "jax"]
    for folder in filter(None, candidates):
        try:
            pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            jax.config.update("jax_compilation_cache_dir", str(folder))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            return str(folder)
    return None
