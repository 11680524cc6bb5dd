"""Argument checks shared by the public API: plain Python, run before any tracing."""

from __future__ import annotations

import math
import numbers


def one_of(name: str, value, allowed) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    if not isinstance(value, (str, type(None))) or value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name}={value!r} is not allowed; choose one of: {shown}")


def integer(name: str, value, *, low: int, high: int | None = None) -> int:
    """Raise ``ValueError`` unless ``value`` is an int in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={value!r} must be an integer >= {low}")
    if value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name}={value!r} must be an integer {span}")
    return int(value)


def real(name: str, value, *, low: float = 0.0, inclusive: bool = True,
         high: float | None = None) -> float:
    """Raise ``ValueError`` unless ``value`` is a finite real number above ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r} must be a finite number")
    value = float(value)
    too_low = value < low if inclusive else value <= low
    if not math.isfinite(value) or too_low or (high is not None and value > high):
        bound = (">= " if inclusive else "> ") + f"{low:g}"
        if high is not None:
            bound += f" and <= {high:g}"
        raise ValueError(f"{name}={value!r} must be a finite number {bound}")
    return value
