"""How the tool writes a number for people: on the console, on maps and in reports."""

from __future__ import annotations

import math
from typing import Any


def number(value: Any, digits: int = 4) -> str:
    """`digits` significant digits; from 1,000 on, thousands separators (with one decimal when
    digits ≥ 4); whole numbers exactly; "–" for none or NaN, ∞ for infinities, yes/no for booleans,
    anything that is not a number as text."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if abs(v) < 1e-9:
        return "0"
    if v == round(v) and abs(v) < 1e15:
        return f"{int(round(v)):,}"
    if abs(v) >= 1000:
        return f"{v:,.1f}" if digits >= 4 else f"{v:,.0f}"
    return f"{v:.{digits}g}"


def percent(value: Any, digits: int = 0) -> str:
    """A share as a percentage with `digits` decimals; "–" for none or NaN."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    return f"{100 * float(value):.{digits}f}%"
