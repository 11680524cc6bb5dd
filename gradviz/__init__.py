"""gradviz: measure, predict and see vanishing and exploding gradients (JAX + plotly)."""

import contextlib
import sys

# plotly's FigureWidget imports nbformat, whose jsonschema imports rfc3987_syntax, and that
# builds an IRI grammar at import time: 1.1 s of the 1.8 s `import gradviz` took, paid in the
# first cell of every lesson. jsonschema wants it only for the "iri" string format, which
# nbformat's schema never uses. So jsonschema is imported once without it; rfc3987_syntax
# itself stays importable (tests/test_import_time.py).
if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # makes `import rfc3987_syntax` raise ImportError
    try:
        with contextlib.suppress(ImportError):
            import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]

# first, before anything starts JAX's CPU backend: one CPU device per core (gradviz._devices)
from gradviz import _devices  # noqa: E402, F401, I001
import plotly.io  # noqa: E402

from gradviz import (
                     _cache,
                     activations,
                     attention_depth,
                     attention_probes,
                     attention_train,
                     cliff,
                     cures,
                     data,
                     exercises,
                     infographic,
                     init,
                     init_compare,
                     plots,
                     preview,
                     probes,
                     seeds,
                     selfnorm,
                     stability,
                     tables,
                     theory,
                     train,
)
from gradviz.attention_probes import TransformerProbeResult, probe_transformer
from gradviz.models.attention import TransformerConfig, apply_transformer, init_transformer
from gradviz.models.mlp import MLPConfig, apply_mlp, init_mlp, stack_params
from gradviz.models.rnn import RNNConfig, apply_rnn, init_rnn
from gradviz.probes import ProbeResult, probe_mlp
from gradviz.rnn_probes import RNNProbeResult, RNNTrainHistory, probe_rnn, train_rnn
from gradviz.seeds import (
    SeedProbeResult,
    SeedTrainResult,
    Spread,
    probe_seeds,
    spread,
    train_seeds,
)
from gradviz.setup_check import check_environment
from gradviz.train import Evaluation, TrainHistory, evaluate, train_mlp
from gradviz.widgets import (
                     ActivationExplorer,
                     ClippingExplorer,
                     GradientExplorer,
                     MitigationExplorer,
                     PhaseExplorer,
                     RNNExplorer,
                     TrainingExplorer,
                     TransformerExplorer,
)

__all__ = [
    "GradientExplorer", "MLPConfig", "PhaseExplorer", "ProbeResult", "RNNConfig", "RNNExplorer",
    "RNNProbeResult",
    "RNNTrainHistory", "TrainHistory", "activations", "apply_mlp", "apply_rnn",
    "check_environment", "data", "exercises", "init", "init_mlp", "init_rnn", "plots", "probe_mlp",
    "probe_rnn", "probes", "stack_params", "tables", "theory", "train", "train_mlp", "train_rnn",
    "ActivationExplorer", "ClippingExplorer", "MitigationExplorer", "TrainingExplorer", "cliff",
    "selfnorm", "TransformerConfig", "TransformerExplorer", "TransformerProbeResult",
    "apply_transformer", "attention_probes", "infographic", "init_transformer", "probe_transformer",
    "Evaluation", "evaluate", "cures",
    "seeds", "spread", "Spread", "probe_seeds", "SeedProbeResult", "train_seeds",
    "SeedTrainResult", "attention_depth", "attention_train", "init_compare", "stability",
]
__version__ = "0.1.0"

_cache.enable()
# Figures render through plotly's JupyterLab extension (no 4 MB of plotly.js per notebook).
plotly.io.renderers.default = "plotly_mimetype"
preview.enable_figure_pngs()  # only while the committed lessons are being built
