"""Shared test helpers."""

import jax
import pytest


class CompileCounter:
    """Counts XLA backend compiles (JAX's own monitoring event) while active."""

    EVENT = "/jax/core/compile/backend_compile_duration"

    def __init__(self):
        self.count = 0
        self.names = []

    def _listener(self, event, duration, **kwargs):
        if event == self.EVENT:
            self.count += 1
            self.names.append(kwargs.get("fun_name"))

    def __enter__(self):
        jax.monitoring.register_event_duration_secs_listener(self._listener)
        return self

    def __exit__(self, *exc):
        jax.monitoring.unregister_event_duration_listener(self._listener)


@pytest.fixture
def count_compiles():
    return CompileCounter

