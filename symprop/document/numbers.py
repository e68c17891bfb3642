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


DIGITS = 4  # decimals a worked solution prints by default (--digits)


def _fmt(x: float, digits: int | None = None) -> str:
    """A fixed number of decimals, trailing zeros dropped: 0.0171041 is
    0.0171 and -2.91233 is -2.9123 (digits=4); 2.0 is 2, never "-0".  A
    nonzero value that would round to 0 is kept in scientific form, 1.2e-07,
    which the renderers print as 1.2·10⁻⁷."""
    digits = DIGITS if digits is None else digits
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 0.5 * 10.0**-digits or abs(x) >= 1e15):
        mantissa, exponent = f"{x:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    text = f"{x:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _sci_text(text: str) -> str:
    """1.2e-7 as 1.2·10⁻⁷."""
    if "e" not in text or text in ("inf", "-inf"):
        return text
    mantissa, exponent = text.split("e")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    if mantissa in ("1", "-1"):
        return mantissa[:-1] + power
    return f"{mantissa}·{power}"


def _sci_latex(text: str) -> str:
    r"""1.2e-7 as 1.2 \cdot 10^{-7}."""
    if "e" not in text or text in ("inf", "-inf"):
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return mantissa[:-1] + power
    return rf"{mantissa} \cdot {power}"


class Number:
    """A number or an array of them, printed by each renderer its own way."""

    def __init__(self, value, digits: int | None = None):
        self.value = value
        self.digits = DIGITS if digits is None else digits

    def _t(self, x) -> str:
        return _sci_text(_fmt(x, self.digits))

    def _l(self, x) -> str:
        return _sci_latex(_fmt(x, self.digits))

    def text(self) -> str:
        v = self.value
        if isinstance(v, np.ndarray):
            if v.shape[1] == 1:
                return "(" + ", ".join(self._t(x) for x in v[:, 0]) + ")ᵀ"
            return "[" + "; ".join(", ".join(self._t(x) for x in row) for row in v) + "]"
        if isinstance(v, list):
            return "[" + ", ".join(Number(x, self.digits).text() for x in v) + "]"
        return self._t(v)

    def latex(self) -> str:
        v = self.value
        if isinstance(v, np.ndarray):
            if v.shape[1] == 1 and v.shape[0] > LONG_COLUMN:  # a long column, written as a row
                return r"\left(" + ", ".join(self._l(x) for x in v[:, 0]) + r"\right)^{\top}"
            rows = r" \\ ".join(" & ".join(self._l(x) for x in row) for row in v)
            return r"\begin{pmatrix} " + rows + r" \end{pmatrix}"
        if isinstance(v, list):
            return r"\left[" + ", ".join(Number(x, self.digits).latex() for x in v) + r"\right]"
        return self._l(v)


LONG_COLUMN = 6  # a column vector longer than this is printed as (…)ᵀ
MAX_ENTRIES_SHOWN = 64  # a larger array is shown by its shape


def _number(value, digits: int | None = None):
    if isinstance(value, np.ndarray) and value.size > MAX_ENTRIES_SHOWN:
        return Pre(f"({value.shape[0]}×{value.shape[1]})", rf"({value.shape[0]} \times {value.shape[1]})")
    return Number(value, digits)


def _short_value(value) -> str:
    """An initial state as text: 0 when every entry is 0."""
    array = np.asarray(value, dtype=float)
    if not np.any(array):
        return "0"
    return _fmt(float(array)) if array.size == 1 else f"({array.shape[0]}×{array.shape[1]})"


def paren(text: str, latex: bool = False) -> str:
    """A negative number in brackets, as it stands inside a product or after a minus."""
    if not text.startswith("-"):
        return text
    return rf"\left({text}\right)" if latex else f"({text})"
