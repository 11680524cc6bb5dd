"""Plain-text tables of measured numbers, printed at fixed precision (stable under nbval)."""

from __future__ import annotations

import math
import numbers


def fmt(value, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits; inf/nan/None spelled out."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def format_table(rows: dict, digits: int = 3) -> str:
    """``{row name: {column: value}}`` as an aligned text table."""
    columns = list(dict.fromkeys(c for row in rows.values() for c in row))
    cells = [[""] + columns] + [[name] + [fmt(row.get(c), digits) for c in columns]
                                for name, row in rows.items()]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
