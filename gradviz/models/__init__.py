"""Models as plain init/apply function pairs over pytrees."""

from gradviz.models.mlp import MLPConfig, apply_mlp, init_mlp, init_mlp_stacked, stack_params
from gradviz.models.rnn import RNNConfig, apply_rnn, init_rnn

__all__ = ["MLPConfig", "apply_mlp", "init_mlp", "init_mlp_stacked", "stack_params", "RNNConfig",
           "apply_rnn", "init_rnn"]
