"""A first-cell check that the course's environment is complete, with fixes for what is not."""

from __future__ import annotations

import importlib.metadata
import importlib.util

REQUIRED = ["jax", "jaxlib", "optax", "numpy", "plotly", "anywidget", "ipywidgets",
            "jupyterlab", "jupyterlab_widgets"]


def check_environment() -> bool:
    """Print one line per requirement and return whether everything is in place."""
    ok = True
    for name in REQUIRED:
        try:
            print(f"✅ {name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            ok = False
            print(f"❌ {name} is missing: run `make lab` from the repository (it installs "
                  "everything into .venv) or `pip install -e .`")
    if importlib.util.find_spec("jax"):
        import jax

        print(f"✅ JAX computes on: {jax.default_backend()} ({len(jax.devices())} device(s))")
    print("All set." if ok else "Fix the ❌ lines, restart the kernel, then run this cell again.")
    return ok
