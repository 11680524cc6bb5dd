"""Models as plain init/apply function pairs over pytrees."""

from gradviz.models.mlp import MLPConfig, apply_mlp, init_mlp, init_mlp_stacked, stack_params

__all__ = ["MLPConfig", "apply_mlp", "init_mlp", "init_mlp_stacked", "stack_params"]
