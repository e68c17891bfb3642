"""Numbers as a worked solution prints them, and mathematics already printed."""

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Pre:
    """Mathematics already printed, for the text and the LaTeX renderers."""

    text: str
    latex: str


def _power_of_ten_above(err: float):
    """A bound for a rounding-size difference, 10⁻ᵏ: the exact digits of such
    a difference depend on the order of floating-point operations."""
    k = max(-12, math.ceil(math.log10(err))) if err > 0 else -12
    return Pre("10" + str(k).translate(_SUPERSCRIPT), f"10^{{{k}}}")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _fmt(x: float, digits: int = 6) -> str:
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


class Number:
    """A number or an array of them, printed by each renderer its own way."""

    def __init__(self, value, digits: int = 6):
        self.value = value
        self.digits = digits

    def text(self) -> str:
        v = self.value
        if isinstance(v, np.ndarray):
            if v.shape[1] == 1:
                return "(" + ", ".join(_fmt(x, self.digits) for x in v[:, 0]) + ")ᵀ"
            return "[" + "; ".join(", ".join(_fmt(x, self.digits) for x in row) for row in v) + "]"
        if isinstance(v, list):
            return "[" + ", ".join(Number(x, self.digits).text() for x in v) + "]"
        return _fmt(float(v), self.digits)

    def latex(self) -> str:
        v = self.value
        if isinstance(v, np.ndarray):
            rows = r" \\ ".join(" & ".join(_fmt(x, self.digits) for x in row) for row in v)
            return r"\begin{pmatrix} " + rows + r" \end{pmatrix}"
        if isinstance(v, list):
            return r"\left[" + ", ".join(Number(x, self.digits).latex() for x in v) + r"\right]"
        text = _fmt(float(v), self.digits)
        if "e" in text:
            mantissa, exponent = text.split("e")
            return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
        return text


MAX_ENTRIES_SHOWN = 64  # a larger array is shown by its shape


def _number(value, digits: int | None = None):
    digits = 6 if digits is None else digits
    if isinstance(value, np.ndarray) and value.size > MAX_ENTRIES_SHOWN:
        return Pre(f"({value.shape[0]}×{value.shape[1]})", rf"({value.shape[0]} \times {value.shape[1]})")
    return Number(value, digits)


def _short_value(value) -> str:
    """An initial state as text: 0 when every entry is 0."""
    array = np.asarray(value, dtype=float)
    if not np.any(array):
        return "0"
    return _fmt(float(array)) if array.size == 1 else f"({array.shape[0]}×{array.shape[1]})"


