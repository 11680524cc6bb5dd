"""Numeric tolerance for nbval: a cell marked ``# NBVAL_RTOL <rtol>`` compares numbers, not digits.

nbval (strict) compares a cell's stored text with the re-run text character by character. That
is right for a number that is stable across machines, and wrong for one that is not: float32
sums differ in their last bits between processors (and thread counts), and a chaotic run (a
large learning rate, an exploding network) amplifies those bits into the printed digits. Such a
cell declares how far its numbers may move, in its own source::

    # NBVAL_RTOL 0.05

The marker must be alone on its line. The stored and the new text must then agree everywhere
except inside numbers (and in how many spaces align a table's columns); each pair of numbers
``a`` (stored) and ``b`` (new) must satisfy::

    |a - b| <= rtol * max(|a|, |b|) + unit(a)

where ``unit(a)`` is one unit in the last digit printed (0.001 for ``0.109``, 100 for
``8.7e+03``), since rounding to the printed digits can flip the last one. ``inf``, ``nan`` and
the count of numbers must match exactly. Cells without the marker stay strict.

Loaded by the repository's root ``conftest.py``; ``tests/test_nbval_harness.py`` checks that a
number moved past the declared tolerance still fails.
"""

from __future__ import annotations

import copy
import math
import re

from nbval.plugin import IPyNbCell

MARKER = re.compile(r"^\s*#\s*NBVAL_RTOL\s+([0-9.eE+-]+)\s*$", re.MULTILINE)
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w])")
TEXT_KEYS = ("text/plain", "text/html", "text/markdown")
_SPACES = re.compile(r" +")


def cell_rtol(source: str) -> float | None:
    """The rtol a cell declares with ``# NBVAL_RTOL <rtol>``, or None."""
    found = MARKER.findall(source)
    if not found:
        return None
    rtol = float(found[-1])
    if not (0 <= rtol < 1):
        raise ValueError(f"NBVAL_RTOL is {rtol}; allowed: 0 <= rtol < 1")
    return rtol


def last_digit_unit(token: str) -> float:
    """One unit in the last printed digit of ``token`` (``'0.109'`` -> 0.001)."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def numbers_agree(stored: str, new: str, rtol: float) -> bool:
    """True if the texts differ only in numbers, each within ``rtol`` (see module docstring)."""
    # Runs of spaces are compared as one: a table re-aligns its columns when a number gains
    # or loses a digit (0.00745 -> 0.0072), which is the number moving, not the text.
    if _SPACES.sub(" ", NUMBER.sub("#", stored)) != _SPACES.sub(" ", NUMBER.sub("#", new)):
        return False
    for a_tok, b_tok in zip(NUMBER.findall(stored), NUMBER.findall(new), strict=True):
        a, b = float(a_tok), float(b_tok)
        if not (math.isfinite(a) and math.isfinite(b)):
            return False
        if abs(a - b) > rtol * max(abs(a), abs(b)) + last_digit_unit(a_tok) * (1 + 1e-9):
            return False
    return True


def _text_slots(output):
    """(container, key) of every string nbval will compare in ``output``."""
    if output.get("output_type") == "stream":
        yield output, "text"
    for key in TEXT_KEYS:
        if isinstance(output.get("data", {}).get(key), str):
            yield output["data"], key


def snap_to_reference(test_outputs, ref_outputs, rtol: float, sanitize):
    """Copy of ``test_outputs`` where each text within tolerance of its stored twin is replaced
    by that twin, so that nbval's strict comparison then passes for it and only for it."""
    test_outputs = copy.deepcopy(test_outputs)
    if len(test_outputs) != len(ref_outputs):
        return test_outputs
    for test, ref in zip(test_outputs, ref_outputs, strict=True):
        test_slots, ref_slots = list(_text_slots(test)), list(_text_slots(ref))
        if [k for _, k in test_slots] != [k for _, k in ref_slots]:
            continue
        for (t_box, key), (r_box, _) in zip(test_slots, ref_slots, strict=True):
            if numbers_agree(sanitize(r_box[key]), sanitize(t_box[key]), rtol):
                t_box[key] = r_box[key]
    return test_outputs


_strict_compare = IPyNbCell.compare_outputs


def compare_outputs(self, test, ref, skip_compare=None):
    rtol = cell_rtol(self.cell.source)
    if rtol is not None:
        test = snap_to_reference(test, ref, rtol, self.sanitize)
    return _strict_compare(self, test, ref, skip_compare)


IPyNbCell.compare_outputs = compare_outputs
