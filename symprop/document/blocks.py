"""The document a worked solution is: lettered parts, each a question and its
solution, made of paragraphs (prose by key from ``strings``, with mathematics
in its places), rows of equations, tables and figures.  The builders in
``parts/`` make it; one renderer per format (``render/``) prints it."""

import re
from dataclasses import dataclass, field

import sympy

from ..model.notation import DEFAULT, Notation
from .maths import Written
from .numbers import as_written, rule_cell
from .strings import LANGUAGES, phrase


class UserText(str):
    """Words the spec gives (its statement, a part's question): text, not markup.
    Each renderer escapes them for its format; the title and the source, always
    the spec's, too."""


@dataclass
class Para:
    parts: list  # str (UserText: the spec's words), or mathematics (a SymPy object, a number, maths.py's)


@dataclass
class Rows:
    """Equations, one a row: [left, right, right, ...] joined by '='."""

    rows: list[list]
    notes: list[str] = field(default_factory=list)


@dataclass
class Beside:
    """Formulas to compare, each under its words: the source's and the right one.  A row
    [lhs, rhs] each; LaTeX sets them in two columns (one above the other when too wide),
    the other formats as labelled lines."""

    labels: list[str]
    rows: list[list]


@dataclass
class Table:
    header: list
    rows: list[list]


@dataclass
class Figure:
    """The computational graph (a ``pictures.Picture``), which each renderer draws in its own language."""

    picture: object


@dataclass
class Series:
    """One line of a plot: its name in the legend and its points (t, value)."""

    name: object  # mathematics: ‖∂L/∂hₜ‖
    points: list[tuple[int, float]]


@dataclass
class Plot:
    """A plot over t on a log scale (the sizes of BPTT's adjoints), drawn by each
    format: PGFPlots in LaTeX, SVG in Markdown and MyST; ``table``, its numbers, in text."""

    series: list[Series]
    y_label: object  # mathematics: the quantity on the vertical axis
    caption: Para  # in the document's language
    alt: Para  # what the picture shows, in words and numbers, for a reader who cannot see it
    table: Table


@dataclass
class Part:
    """A lettered question and its solution."""

    question: Para
    solution: list
    letter: str | None = None  # the source's letter; None: by position


@dataclass
class Section:
    """A titled section after the parts: the teacher's appendix."""

    title: str
    blocks: list
    teacher: bool = True  # the teacher's appendix; False: every reader's (the answers)


@dataclass
class Document:
    title: str  # the spec's words, as the source is: each renderer escapes them
    lang: str
    source: str | None
    statement: list
    parts: list[Part]
    index_base: int = 0
    sequences: frozenset = frozenset()
    appendix: list[Section] = field(default_factory=list)
    notation: Notation = DEFAULT  # [notation]: how names, steps and gradients print

    def word(self, key: str) -> str:
        return phrase(self.lang, key)

    @property
    def colon(self) -> str:
        """A colon in the document's script: full width in Chinese (解答：)."""
        return "：" if LANGUAGES[self.lang].script == "han" else ":"

    @property
    def heading_stop(self) -> str:
        """What ends a bold run-in heading: a full stop (Solution.), in Chinese a full-width colon."""
        return "：" if LANGUAGES[self.lang].script == "han" else "."


def para(lang: str, key: str, **math) -> Para:
    """A sentence from the string table, its {places} filled with mathematics."""
    return fill(phrase(lang, key), **math)


def fill(template: str, **math) -> Para:
    """A sentence of ``template``, its {places} filled with mathematics."""
    parts: list = []
    for piece in re.split(r"(\{[A-Za-z0-9_]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            value = math[piece[1:-1]]
            parts.extend(value.parts if isinstance(value, Para) else [value])
        elif piece:
            parts.append(piece)
    return Para(parts)


def _texttt(text: str) -> str:
    """A formula as the spec writes it (ASCII, the parser's), in typewriter type.  The
    renderers import this module, so the LaTeX renderer's table cannot be used here."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}", "#": r"\#",
               "$": r"\$", "%": r"\%", "&": r"\&", "~": r"\~{}"}
    return r"\texttt{" + "".join(special.get(ch, ch) for ch in text) + "}"


def claim_rule_key(row: dict) -> tuple:
    """What a claim is compared by: (tol, rtol), or digits."""
    return (row["digits"],) if "digits" in row else (row["tol"], row["rtol"])


def claim_rule(lang: str, row: dict) -> Para:
    """The rule of a claim, in words: tolerance 0.001; relative tolerance 1e-6;
    both; or printed to 2 decimals."""
    if "digits" in row:
        return para(lang, "rule_digits", n=sympy.Integer(row["digits"]))

    def num(x):
        return Written(as_written(x))

    if row["rtol"] and row["tol"]:
        return para(lang, "rule_tol_rtol", tol=num(row["tol"]), rtol=num(row["rtol"]))
    if row["rtol"]:
        return para(lang, "rule_rtol", rtol=num(row["rtol"]))
    return para(lang, "rule_tol", tol=num(row["tol"]))


def claim_rule_cell(lang: str, row: dict):
    """A claim's rule in a table's cell: ±0.001 (mathematics), or words for digits."""
    return rule_cell(row) or phrase(lang, "rule_digits_short").format(n=row["digits"])
