"""The Python API: a loaded problem and the pipeline run on it, on demand.

``symprop.load(path)`` gives a ``Problem``: the validated spec (data, from
``model``) with the methods of the contract (``gradients``, ``solve``,
``solution``, ``document``), each running the layers below and caching what
they build.  Nothing below this module imports it.
"""

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tomli_w

from .derive.backprop import derivation_of
from .derive.closed_form import closed_gradients
from .derive.graph import graph_of
from .derive.program import program_of
from .document.answer_key import answer_key, key_json, variant_spec
from .document.render import render
from .document.render.document import no_controls
from .document.render.text import check_text
from .document.solution import AUDIENCES, derivation_document, solution_document
from .document.solution import Figure as Figure
from .document.strings import LANGUAGES
from .document.strings import STRINGS as STRINGS
from .errors import SympropError
from .evaluate import numeric
from .evaluate.arrays import Machine
from .evaluate.check import run_checks
from .evaluate.variants import draw_variants
from .model import spec
from .model.functions import built_in_names, plain
from .model.reading import read_spec as read_spec
from .model.shipped import reference as reference
from .model.shipped import resolve
from .model.shipped import shipped as shipped
from .model.shipped import title_of as title_of

FORMATS = ("text", "latex", "myst", "markdown")
AGAINST = ("fd", "torch", "all")


def _user_errors(function):
    """Bad input raises SympropError, whatever the layer below ran into."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except SympropError:
            raise
        except (RecursionError, MemoryError):
            origin = getattr(getattr(args[0], "spec", args[0]), "origin", None) if args else None
            raise SympropError("the problem is too large or nested too deeply", where=origin) from None
        except Exception as e:  # a bug in symprop: still the one error type, and still reported
            first = str(e).splitlines()[0] if str(e) else ""
            raise SympropError(f"internal error ({type(e).__name__}: {first}); please report it with the spec") from e

    return guarded


def _given(value, kind, what: str, name: str):
    if not isinstance(value, kind) or isinstance(value, bool):
        raise SympropError(f"{name} must be {what}, got {type(value).__name__} {value!r:.40}")
    return value


def strict_json(data) -> str:
    """Strict JSON (no NaN or Infinity), UTF-8 as it is but for the C1
    control characters and the bidi marks, which a terminal would obey."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    return re.sub("[\x80-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]",
                  lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise SympropError(f"{name} must be True or False, got {type(value).__name__} {value!r:.40}")
    return value


def _choice(value, choices, name: str, optional: bool = False):
    if (value is None and optional) or (isinstance(value, str) and value in choices):
        return value
    raise SympropError(f"{name} must be one of {', '.join(choices)}, got {value!r:.40}")


def _document_options(fmt, lang, audience, digits) -> None:
    _choice(fmt, FORMATS, "fmt")
    _choice(lang, LANGUAGES, "lang", optional=True)
    _choice(audience, AUDIENCES, "audience")
    if digits is not None and _given(digits, int, "a whole number", "digits") not in range(1, 13):
        raise SympropError(f"digits must be from 1 to 12, got {digits}")


@_user_errors
def function_names() -> list[str]:
    """Every function a spec may call, sorted (the CLI's help lists them)."""
    return sorted(built_in_names())


@_user_errors
def load(path: str | Path) -> "Problem":
    """A problem from a path or a shipped name (``"udl_toy"``)."""
    _given(path, str | Path, "a path or a shipped problem's name", "path")
    return Problem(spec.load(resolve(path)))


@_user_errors
def loads(text: str, origin: str = "<spec>") -> "Problem":
    """A problem from TOML text (``origin`` names it in messages)."""
    _given(text, str, "TOML text", "text")
    return Problem(spec.load(str(origin), text=text))


@_user_errors
def from_dict(data: dict, origin: str = "<spec>") -> "Problem":
    """A problem from already parsed TOML."""
    return Problem(spec.from_dict(data, str(origin)))


class Problem:
    """A validated problem (its fields are the spec's) and what symprop makes of it."""

    def __init__(self, data: spec.Problem):
        self.spec = data

    def __getattr__(self, name):
        return getattr(self.spec, name)

    @_user_errors
    def graph(self):
        return graph_of(self.spec)

    @_user_errors
    def derivation(self):
        return derivation_of(self.spec)

    @_user_errors
    def gradients(self) -> dict:
        """``{param: sympy.Expr}``: each gradient in closed form (a matrix for a
        matrix parameter), in the params, inputs and undefined functions."""
        return {name: plain(g) for name, g in closed_gradients(self.derivation()).items()}

    @_user_errors
    def solve(self) -> dict:
        """The numbers of the worked solution, as the JSON contract gives them."""
        return self.solution().to_json()

    @_user_errors
    def solution(self, exact: bool = True) -> "Solution":
        """The worked solution as an object (it displays itself in Jupyter); in
        floating point only, without the exact pass, when not ``exact``."""
        return Solution(numeric.solve(self.spec, _flag(exact, "exact")))

    @_user_errors
    def compiled(self) -> Machine:
        """The program ready for numbers: ``compiled().run(values)`` is one
        forward and backward pass with NumPy (``.loss``, ``.values``,
        ``.adjoints`` by name, parameters included)."""
        return Compiled(program_of(self.spec), self.spec.conventions.relu_grad_at_zero)

    @_user_errors
    def check(self, against: str = "all") -> tuple[str, bool]:
        """The report of ``symprop check`` and whether everything agrees."""
        return check_report(self.spec, against)

    @_user_errors
    def document(self, fmt: str = "markdown", lang: str | None = None, standalone: bool = False,
                 audience: str = "teacher", digits: int | None = None) -> str:
        """The symbolic derivation as text, LaTeX, MyST or Markdown."""
        _document_options(fmt, lang, audience, digits)
        return render(derivation_document(self.spec, lang, audience, digits), fmt, standalone)

    @_user_errors
    def variants(self, count: int = 10, seed: int = 0) -> "Variants":
        """``count`` variants of the problem with new numbers and their answers
        (the same seed gives the same variants)."""
        _given(count, int, "an integer", "count")
        _given(seed, int, "an integer", "seed")
        return Variants(self.spec, draw_variants(self.spec, count, seed))

    def _repr_markdown_(self) -> str:
        """Jupyter shows Markdown with $…$ math; a LaTeX repr would go to MathJax,
        which takes formulas, not a document with sections and tables."""
        return self.document("markdown")


def _numeric(value) -> bool:
    """A number, a numeric array, or a list of them (a sequence by t)."""
    if isinstance(value, list):
        return bool(value) and all(_numeric(v) and not isinstance(v, list) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf" and value.ndim <= 2
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


class Compiled(Machine):
    """The program ready for numbers, whose ``run`` checks what it is given."""

    @_user_errors
    def run(self, values: dict):
        _given(values, dict, "a dict of values by name", "values")
        for name, value in values.items():
            if not _numeric(value):
                raise SympropError(f"values[{name!r:.40}] must be a number, an array or a list of them "
                                   f"(a sequence), got {type(value).__name__}")
        return super().run(values)


@dataclass
class Solution:
    """The numbers of a worked solution and the documents made of them."""

    numbers: numeric.Solution

    def __getattr__(self, name):
        return getattr(self.numbers, name)

    @_user_errors
    def to_json(self) -> dict:
        return self.numbers.to_json()

    @_user_errors
    def document(self, fmt: str = "markdown", lang: str | None = None, standalone: bool = False,
                 audience: str = "teacher", digits: int | None = None, fractions: bool = False,
                 exact: bool = True) -> str:
        """The worked solution as text, LaTeX, MyST or Markdown: exact numbers
        where the solution has them (``exact``; 3/8 for 0.375 with ``fractions``)."""
        _document_options(fmt, lang, audience, digits)
        _flag(fractions, "fractions")
        _flag(exact, "exact")
        return render(solution_document(self.numbers.problem, self.numbers, lang, audience, digits, exact, fractions),
                      fmt, standalone)

    def _repr_markdown_(self) -> str:
        return self.document("markdown")


@dataclass
class Variants:
    """Variants of a problem: each as a spec (a TOML table with its answers in
    ``[expected]``), and one answer key."""

    problem: spec.Problem
    drawn: list

    @_user_errors
    def specs(self) -> list[dict]:
        """Each variant's spec as a dict (``symprop.from_dict`` reads it)."""
        return [variant_spec(self.problem, v, k) for k, v in enumerate(self.drawn, start=1)]

    @_user_errors
    def toml(self) -> list[str]:
        """Each variant's spec as TOML text."""
        return [tomli_w.dumps(data, multiline_strings=True) for data in self.specs()]

    @_user_errors
    def key(self, fmt: str = "markdown", lang: str | None = None, fractions: bool = False,
            standalone: bool = False) -> str:
        """The answer key: every variant's numbers and answers (JSON: a list of
        {"values", "answers"} with exact answers as strings "3/8")."""
        if fmt == "json":
            return strict_json(key_json(self.drawn))
        _document_options(fmt, lang, "teacher", None)
        _flag(fractions, "fractions")
        return render(answer_key(self.problem, self.drawn, lang, fractions), fmt, standalone)


@_user_errors
def check_report(problem: spec.Problem, against: str = "all") -> tuple[str, bool]:
    """The text ``symprop check`` prints, and whether every check agrees."""
    _choice(against, AGAINST, "against")
    report = run_checks(problem, against)
    text = check_text(problem, report.checks, report.expected)
    summary = "all checks passed" if report.ok else "some checks FAILED"
    return f"{no_controls(problem.title)}\n\n{text}\n\n{summary}\n", report.ok


# What the command line and the Sphinx extension call: they import this module
# only (an import-linter contract keeps them so).  The names above serve them too:
# render, no_controls, AUDIENCES, LANGUAGES, STRINGS, Figure, solution_document,
# derivation_document, run_checks, read_spec, reference, resolve, shipped, title_of.


@_user_errors
def load_spec(path, text: str | None = None) -> spec.Problem:
    """The validated spec of a file (or of ``text`` read from it), without the API's wrapper."""
    return spec.load(path, text=text)


@_user_errors
def numbers(problem: spec.Problem, exact: bool = True):
    """The worked solution's numbers (every step, every check) of a validated spec
    (in floating point only, without the exact pass, when not ``exact``)."""
    return numeric.solve(problem, exact)


@_user_errors
def derivation_json(problem: spec.Problem) -> dict:
    """``symprop derive --format json``: the derivation as data."""
    from .document.render.json import (
        derivation_json as build,  # JSON's renderer only when asked for
    )

    return build(problem)


@_user_errors
def draw(problem: spec.Problem, fmt: str, grad: bool = False, unrolled: bool = False, lang: str | None = None) -> str:
    """``symprop graph``: the computational graph in DOT, SVG, TikZ or Mermaid."""
    from .document.pictures import draw as picture  # Graphviz's pictures only when asked for

    return picture(problem, fmt, grad=grad, unrolled=unrolled, lang=lang)
