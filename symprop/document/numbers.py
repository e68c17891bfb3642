"""Numbers as a worked solution prints them."""

import math
import re
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from sympy import Rational

from ..evaluate.exact import decimals, rational, short
from .maths import PowerOfTen, Shape, Tolerance


def _power_of_ten_above(err: float):
    """A bound for a rounding-size difference, 10⁻ᵏ: the exact digits of such
    a difference depend on the order of floating-point operations."""
    k = max(-12, math.ceil(math.log10(err))) if err > 0 else -12
    return PowerOfTen(k)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


DIGITS = 4  # decimals a worked solution prints by default (--digits)


def _fmt(x: float, digits: int | None = None, keep_zeros: bool = False) -> str:
    """A fixed number of decimals, trailing zeros dropped: 0.0171041 is
    0.0171 and -2.91233 is -2.9123 (digits=4); 2.0 is 2, never "-0".  A
    nonzero value below 10⁻³ (with 4 decimals or more; with fewer, one that
    would round to 0) is written in scientific form with three significant
    figures, or as many as keep ``digits`` decimals' precision (a number
    carried with 8 decimals: 0.00017966 is 1.7966e-4): 0.000123 is 1.23e-4
    (not 0.0001), 7.9e-07 stays; the renderers print 1.23·10⁻⁴.  With
    ``keep_zeros`` the mantissa keeps its trailing zeros (4.30e-4)."""
    digits = DIGITS if digits is None else digits
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    small = 10.0 ** (1 - DIGITS) if digits >= DIGITS else 0.5 * 10.0**-digits  # fewer decimals: what rounds to 0
    if x != 0 and (abs(x) < small or abs(x) >= 1e15):
        places = max(2, digits + math.floor(math.log10(abs(x)))) if abs(x) < 1 else 2
        mantissa, exponent = f"{x:.{places}e}".split("e")
        if not keep_zeros:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    text = f"{x:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fixed(x: float, digits: int) -> str:
    """``digits`` decimals, trailing zeros kept (0.7340); a whole number and 0 as ``_fmt``
    writes them (2, 0), a tiny number with its significant figures' zeros (1.20e-7)."""
    text = _fmt(x, digits, keep_zeros=True)
    if "e" in text or float(x) == int(float(x)) or text == "0":
        return text
    whole, _, tail = text.partition(".")
    return f"{whole}.{tail.ljust(digits, '0')}"


def exact_text(x: Rational, fractions: bool = False) -> str:
    """An exact number as a book prints it: 0.375 (every decimal it has), 1/3
    when no decimal ends, 3/8 with ``fractions``; a whole number as one."""
    places = decimals(x)
    if x.q == 1:
        return str(x.p)
    if places is None or fractions:
        return f"{x.p}/{x.q}"
    digits = str(abs(x.p) * 10**places // x.q).rjust(places + 1, "0")  # digit by digit, never a float
    return ("-" if x < 0 else "") + digits[:-places] + "." + digits[-places:]


def exactly(value):
    """A given number (a float, an array of them, a sequence) as the exact
    decimal it is written as, when that is short (0.1 is 1/10); else as it is."""
    if isinstance(value, list):
        return [exactly(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return value
        entries = [rational(x) for x in value.flat]
        return np.array(entries, dtype=object).reshape(value.shape) if all(map(short, entries)) else value
    if isinstance(value, Rational):
        return value
    if not math.isfinite(value):
        return value
    x = rational(value)
    return x if short(x) else value


def _entry(x, digits: int, fractions: bool) -> str:
    """One entry as text: an exact number exactly (``exact_text``), a float
    with ``digits`` decimals (``_fmt``)."""
    return exact_text(x, fractions) if isinstance(x, Rational) else _fmt(x, digits)


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
    r"""1.2e-7 as 1.2 \cdot 10^{-7}, -3/8 as -\frac{3}{8}."""
    if "/" in text:
        sign, p, q = re.fullmatch(r"(-?)(\d+)/(\d+)", text).groups()
        return rf"{sign}\frac{{{p}}}{{{q}}}"
    if "e" not in text or text in ("inf", "-inf"):
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return mantissa[:-1] + power
    return rf"{mantissa} \cdot {power}"


class Number:
    """A number or an array of them, printed by each renderer its own way."""

    def __init__(self, value, digits: int | None = None, write=None, fractions: bool = False):
        self.value = value
        self.digits = DIGITS if digits is None else digits
        # one entry as text: 1.2e-7 for 1.2·10⁻⁷, an exact 3/8 as 0.375 (or 3/8 with fractions)
        self.write = write or (lambda x: _entry(x, self.digits, fractions))

    def _t(self, x) -> str:
        return _sci_text(self.write(x))

    def _l(self, x) -> str:
        return _sci_latex(self.write(x))

    def _part(self, v) -> "Number":
        return Number(v, self.digits, self.write)

    def text(self) -> str:
        v = self.value
        if isinstance(v, np.ndarray) and v.ndim > 2:  # as NumPy nests it: a list of matrices, …
            return "[" + ", ".join(self._part(x).text() for x in v) + "]"
        if isinstance(v, np.ndarray):
            if v.shape[1] == 1:
                return "(" + ", ".join(self._t(x) for x in v[:, 0]) + ")ᵀ"
            return "[" + "; ".join(", ".join(self._t(x) for x in row) for row in v) + "]"
        if isinstance(v, list):
            return "[" + ", ".join(Number(x, self.digits, self.write).text() for x in v) + "]"
        return self._t(v)

    def latex(self) -> str:
        v = self.value
        if isinstance(v, np.ndarray) and v.ndim > 2:  # matrices side by side, the axes before them one a line
            parts = [self._part(x).latex() for x in v]
            inner = (r", \\ " if v.ndim > 3 else ", ").join(parts)
            return (r"\left[\begin{array}{c} " + inner + r" \end{array}\right]" if v.ndim > 3
                    else r"\left[" + inner + r"\right]")
        if isinstance(v, np.ndarray):
            if v.shape[1] > WIDE_MATRIX:  # wider than a page: shown by its shape, as a large array
                return r"(" + r" \times ".join(map(str, v.shape)) + ")"
            if v.shape[1] == 1 and v.shape[0] > LONG_COLUMN:  # a long column, written as a row
                return r"\left(" + ", ".join(self._l(x) for x in v[:, 0]) + r"\right)^{\top}"
            entries = [[self._l(x) for x in row] for row in v]
            # rows of fractions apart, so that one's denominator does not touch the next numerator
            gap = r" \\[3pt] " if any(r"\frac" in e for row in entries for e in row) else r" \\ "
            return r"\begin{pmatrix} " + gap.join(" & ".join(row) for row in entries) + r" \end{pmatrix}"
        if isinstance(v, list):
            return r"\left[" + ", ".join(Number(x, self.digits, self.write).latex() for x in v) + r"\right]"
        return self._l(v)


LONG_COLUMN = 6  # a column vector longer than this is printed as (…)ᵀ
WIDE_MATRIX = 10  # in LaTeX, a matrix of more columns is shown by its shape (pmatrix's most)
MAX_ENTRIES_SHOWN = 64  # a larger array is shown by its shape


def _number(value, digits: int | None = None, fractions: bool = False):
    if isinstance(value, np.ndarray) and value.size > MAX_ENTRIES_SHOWN:
        return Shape(value.shape)
    return Number(value, digits, fractions=fractions)


@dataclass(frozen=True)
class Style:
    """How a document prints numbers: floats with ``digits`` decimals (--digits);
    with ``exact``, a given number as the short decimal it is written as (an
    exact pass's numbers are rationals already); exact numbers as fractions
    with ``fractions`` (3/8, not 0.375)."""

    digits: int | None = None
    exact: bool = False
    fractions: bool = False

    def number(self, value):
        return _number(exactly(value) if self.exact else value, self.digits, self.fractions)

    def column(self, value):
        """A computed number in a table's column: a float with all its decimals, trailing
        zeros kept (0.7340 beside 0.1500, as books set a column); an exact one exactly."""
        number = self.number(value)
        if not isinstance(number, Number):  # a large array, by its shape
            return number
        return Number(number.value, number.digits, lambda x: (
            _entry(x, number.digits, self.fractions) if isinstance(x, Rational) else _fixed(x, number.digits)))


def as_written(x: float, decimals: int | None = None) -> str:
    """A number as a spec writes it: the shortest decimal that reads back the
    same (4.96, 1e-07, 2), or ``decimals`` fixed (4.90 for digits = 2)."""
    if decimals is not None:
        return f"{x:.{decimals}f}"
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


MAX_CLAIM_DECIMALS = 12  # the computed number of a claim that agrees
MAX_SHOWN_DECIMALS = 15  # … of one that does not, to show where it differs


def claim_cells(row: dict, digits: int | None = None) -> tuple:
    """A claim's two numbers (a row of ``compare_claims``), as every format prints
    them: the claimed one as the spec writes it (with the claim's ``digits``, that
    many decimals), and the computed one in the same form (a number, [a, b], or a
    matrix) with the document's decimals (``digits``, default 4), the claim's if
    more (up to 12), and in a claim that is not ok as many as show the entries
    that disagree differ from the claim (up to 15)."""
    claimed, computed = np.asarray(row["claimed"], float), np.asarray(row["computed"], float)
    written = np.vectorize(lambda x: as_written(x, row.get("digits")), otypes=[str])(claimed)
    decimals = max([DIGITS if digits is None else digits]
                   + [min(MAX_CLAIM_DECIMALS, max(0, -Decimal(w).as_tuple().exponent)) for w in written.flat])
    if row["verdict"] != "ok":
        index = {"".join(f"[{i}]" for i in at): at for at in np.ndindex(*claimed.shape)}
        differ = [index[e] for e in row.get("disagree", [])] or [()]
        while decimals < MAX_SHOWN_DECIMALS and any(
                float(_fmt(computed[at], decimals)) == claimed[at] for at in differ):
            decimals += 1

    def cell(value: np.ndarray, write) -> "Number | Shape":
        if value.size > MAX_ENTRIES_SHOWN:
            return Shape(value.shape)
        shaped = value.tolist() if value.ndim == 1 else value if value.ndim >= 2 else float(value)
        return Number(shaped, decimals, write)

    return cell(claimed, lambda x: as_written(x, row.get("digits"))), cell(computed, None)


MAX_ENTRIES_NAMED = 4  # entries of a claim that disagree, named beside its verdict


def disagreeing(row: dict, base: int = 0) -> str:
    """The entries of a vector or matrix claim that are not ok, as keys write them
    ([1][0], counted from ``base``), when some are and not all; else ""."""
    entries = row.get("disagree", [])
    if not entries or len(entries) == np.size(row["claimed"]):
        return ""
    named = [re.sub(r"\d+", lambda m: str(int(m.group()) + base), e) for e in entries[:MAX_ENTRIES_NAMED]]
    return ", ".join(named) + (", …" if len(entries) > MAX_ENTRIES_NAMED else "")


def rule_cell(row: dict) -> "Tolerance | None":
    """A claim's tolerance as mathematics: ±0.001, ±0.1 %, ±(0.001 + 0.1 %); None for digits."""
    if "digits" in row:
        return None
    tol, rel = as_written(row["tol"]), as_written(float(f"{row['rtol'] * 100:.12g}"))
    return Tolerance(tol if row["tol"] or not row["rtol"] else None, rel if row["rtol"] else None)


def factor(text: str) -> str:
    """A number as a factor in text: in brackets when negative or a fraction
    (1/10·3/2 would not read as a product of two numbers)."""
    return f"({text})" if "/" in text or text.startswith("-") else text


def paren(text: str, latex: bool = False) -> str:
    """A negative number in brackets, as it stands inside a product or after a minus."""
    if not text.startswith("-"):
        return text
    return rf"\left({text}\right)" if latex else f"({text})"
