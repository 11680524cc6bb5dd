"""Find the numbers a lesson's prose quotes, and whether the lesson measured them.

A *quoted number* is a number in a markdown cell that states a measurement: a decimal
(``0.76``, ``4.3``), a power of ten (``1.9e-6``, ``5 \\times 10^{-19}``, ``10⁻¹⁸``), a percentage
(``45%``), or an integer introduced as an approximation (``about 30``, ``~340``, ``≈ 120``).
Plain integers (depths, widths, steps, lesson numbers, years) are settings, not claims; so are
numbers in inline code, links, sub- and superscripts.

A quoted number is *backed* when, rounded to the precision it is printed with, it equals a
number in the lesson's stored outputs or code (the settings a cell passes), or one of the
derived constants in :data:`CONSTANTS` (each with its derivation).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Exact results that a lesson may quote without measuring them: value -> how it is derived.
CONSTANTS = {
    0.25: "max of sigmoid'(z) = 1/4 at z = 0",
    0.5: "one half",
    1.0: "one",
    2.0: "two",
    math.pi / (math.pi - 1): "batch norm's ReLU gradient gain pi/(pi-1) (Yang et al. 2019)",
    5 / 3: "tanh gain 5/3 (PyTorch calculate_gain)",
    math.sqrt(2): "ReLU gain sqrt(2) (He et al. 2015)",
    1.0507009873554805: "SELU lambda (Klambauer et al. 2017)",
    1.6732632423543772: "SELU alpha (Klambauer et al. 2017)",
    1 / 3: "Glorot & Bengio's standard init: Var = 1/(3 n)",
    2 ** -23: "float32 machine epsilon / 2",
    1.1920929e-07: "float32 machine epsilon",
    3.4028235e38: "float32 largest finite value",
    1e-3: "Karpathy's update-to-weight ratio guide",
}

_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_APPROX = (r"(?:~\s*|≈\s*|\\approx\s*|about\s+|around\s+|roughly\s+|nearly\s+|almost\s+"
           r"|factor of\s+)")

# Order matters: the longer notations first, each replaced by a placeholder once read.
_PATTERNS = [
    # 5 \times 10^{-19}, 4.5 × 10^9, 3x10^13, 2 \cdot 10^{-3}
    ("sci", re.compile(r"(?<![\w.^_{])(\d+(?:\.\d+)?)\s*(?:\\times|\\cdot|×|x|·)\s*10\s*\^\s*\{?\s*"
                       r"([-+−]?\d+)\s*\}?")),
    # 10^{-18}, 10⁻¹⁸
    ("pow10", re.compile(r"(?<![\w.^_{])10\s*\^\s*\{?\s*([-+−]?\d+)\s*\}?")),
    ("pow10", re.compile(r"(?<![\w.^_{])10([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")),
    # 1.9e-6, 4.61e-19
    ("e", re.compile(r"(?<![\w.^_{])(\d+(?:\.\d+)?[eE][-+]?\d+)(?!\w|\.\d)")),
    # 45%, 4.4 %, 60\%
    ("pct", re.compile(r"(?<![\w.^_{])(\d+(?:\.\d+)?)\s*\\?%")),
    # about 30, ~340
    ("approx", re.compile(_APPROX + r"(\d{1,3}(?:[,\u2009\u202f ]\d{3})+|\d+(?:\.\d+)?)"
                          r"(?![\w^_]|\.\d)", re.IGNORECASE)),
    # 0.76, 4.3 (not 1.2.3, not version numbers, not subscripts)
    ("decimal", re.compile(r"(?<![\w.^_{\\])(\d+\.\d+)(?![\w^]|\.\d)")),
]


@dataclass(frozen=True)
class Quoted:
    text: str     # as written
    value: float  # its value (a percentage as a percentage: 45% -> 45.0)
    unit: float   # one unit in the last digit written
    percent: bool
    pow10: bool = False


def _unit(mantissa: str, exponent: int = 0) -> float:
    """One unit in the last written digit: '4.61' -> 0.01; '300' -> 100; '340' -> 10."""
    mantissa = mantissa.replace(",", "")
    if "." in mantissa:
        return 10.0 ** (exponent - len(mantissa.partition(".")[2]))
    stripped = mantissa.rstrip("0")
    return 10.0 ** (exponent + len(mantissa) - len(stripped)) if stripped else 10.0**exponent


def _strip(markdown: str) -> str:
    """Drop what holds settings or names, not claims: code, links, HTML tags, citations."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"arXiv:\s*\d+\.\d+", " ", text)
    text = re.sub(r"\\(?:tfrac|frac|dfrac)\{[^}]*\}\{[^}]*\}", " ", text)  # exact fractions
    return text


def quoted_numbers(markdown: str) -> list[Quoted]:
    """Every quoted number in a markdown cell (see module docstring)."""
    text = _strip(markdown)
    found = []
    for kind, pattern in _PATTERNS:
        def read(m, kind=kind):
            s = m.group(0)
            if kind == "sci":
                exp = int(m.group(2).replace("−", "-"))
                value = float(m.group(1)) * 10.0**exp
                found.append(Quoted(s, value, _unit(m.group(1), exp), False))
            elif kind == "pow10":
                exp = int(m.group(1).translate(_SUPER).replace("−", "-"))
                found.append(Quoted(s, 10.0**exp, 10.0**exp, False, pow10=True))
            elif kind == "e":
                mant, _, exp = m.group(1).lower().partition("e")
                found.append(Quoted(s, float(m.group(1)), _unit(mant, int(exp)), False))
            elif kind == "pct":
                found.append(Quoted(s, float(m.group(1)), _unit(m.group(1)), True))
            elif kind == "approx":
                num = re.sub(r"[,\u2009\u202f ]", "", m.group(1))
                found.append(Quoted(s.strip(), float(num), _unit(num), False))
            else:
                found.append(Quoted(s, float(m.group(1)), _unit(m.group(1)), False))
            return " \x00 "
        text = pattern.sub(read, text)
    return found


_OUT_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def source_numbers(text: str) -> list[float]:
    """Every number printed in an output or written in code, as floats (signs dropped)."""
    out = []
    for tok in _OUT_NUMBER.findall(text.replace(",", "")):
        try:
            out.append(abs(float(tok)))
        except ValueError:
            pass
    return out


def backed(q: Quoted, sources: list[float]) -> bool:
    """True if ``q`` equals a source number (or a derived constant) at the precision shown."""
    if q.pow10:  # a bare power of ten is an order of magnitude: log10 rounds to it
        return any(s > 0 and abs(math.log10(s) - math.log10(q.value)) <= 0.5 for s in sources)
    tol = 0.5 * q.unit * (1 + 1e-9) + 1e-12 * abs(q.value)
    candidates = list(sources) + list(CONSTANTS)
    for s in candidates:
        if abs(abs(q.value) - s) <= tol:
            return True
        if q.percent and abs(abs(q.value) - 100 * s) <= tol:
            return True
    return False


def notebook_texts(nb) -> tuple[list[tuple[int, str]], str]:
    """(markdown cells as (index, source), all outputs and code joined) of a notebook."""
    markdown, sources = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            markdown.append((i, cell.source))
        elif cell.cell_type == "code":
            sources.append(cell.source)
            for out in cell.get("outputs", []):
                if "text" in out:
                    sources.append(out["text"])
                for mime in ("text/plain", "text/html", "text/markdown"):
                    value = out.get("data", {}).get(mime)
                    if isinstance(value, str):
                        sources.append(value)
    return markdown, "\n".join(sources)


def unbacked(nb) -> list[str]:
    """``'cN: <number>'`` for every quoted number of ``nb`` that nothing in it backs."""
    markdown, joined = notebook_texts(nb)
    sources = source_numbers(joined)
    return [f"c{i}: {q.text}" for i, md in markdown for q in quoted_numbers(md)
            if not backed(q, sources)]
