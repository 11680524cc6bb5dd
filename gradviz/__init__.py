"""gradviz: measure, predict and see vanishing and exploding gradients (JAX + plotly)."""

from gradviz import _cache, activations, init, plots, probes, theory
from gradviz.models.mlp import MLPConfig, apply_mlp, init_mlp, stack_params
from gradviz.probes import ProbeResult, probe_mlp
from gradviz.widgets import GradientExplorer

__all__ = [
    "GradientExplorer", "MLPConfig", "ProbeResult", "activations", "apply_mlp", "init",
    "init_mlp", "plots", "probe_mlp", "probes", "stack_params", "theory",
]
__version__ = "0.1.0"

_cache.enable()
