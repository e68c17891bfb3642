"""The Python API: a loaded problem and the pipeline run on it, on demand.

``symprop.load(path)`` gives a ``Problem``: the validated spec (data, from
``model``) with the methods of the contract (``gradients``, ``solve``,
``solution``, ``document``), each running the layers below and caching what
they build.  Nothing below this module imports it.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .document.render import RENDERERS
from .document.strings import AUDIENCES, LANGUAGES, phrase
from .document.strings import STRINGS as STRINGS
from .errors import SympropError
from .evaluate.checks import against_choices
from .model.reading import MAX_AXES, load_toml
from .model.reading import read_spec as read_spec
from .model.shipped import reference as reference
from .model.shipped import resolve
from .model.shipped import shipped as shipped
from .model.shipped import title_of as title_of

if TYPE_CHECKING:
    from .evaluate import numeric
    from .evaluate.arrays import Machine
    from .model import spec

# SymPy and NumPy are imported by the functions that need them, not here: the
# command line answers --help, list, spec-format and bad input without them.

FORMATS = tuple(RENDERERS)  # a document's formats (JSON: its structure, each formula as text and LaTeX)
SUFFIXES = {fmt: entry.suffix for fmt, entry in RENDERERS.items()}  # of the files written in each
AGAINST = against_choices()  # ("fd", "torch", "all"): the registry's checks that --against chooses, then all


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


# Every function a spec may call, written out so that the CLI's help lists them
# without importing SymPy; a test keeps it equal to model.functions.built_in_names().
FUNCTION_NAMES = (
    "abs", "amax", "amin", "arange", "binary_cross_entropy_with_logits", "concat", "conv1d",
    "conv2d", "corr2d", "cos", "cross_entropy", "det", "elu", "exp", "flatten", "gelu",
    "gelu_tanh", "heaviside", "inv", "leaky_relu", "log", "log_softmax", "logdet", "logsigmoid",
    "logsumexp", "max", "max_pool2d", "mean", "min", "norm", "onehot", "outer", "pad", "range",
    "relu", "reshape", "sigmoid", "silu", "sin", "softmax", "softplus", "sqrt", "std", "sum",
    "tanh", "trace", "transpose", "var", "where",
)


def function_names() -> list[str]:
    """Every function a spec may call, sorted (the CLI's help lists them)."""
    return sorted(FUNCTION_NAMES)


@_user_errors
def load(path: str | Path) -> "Problem":
    """A problem from a path or a shipped name (``"udl_toy"``)."""
    _given(path, str | Path, "a path or a shipped problem's name", "path")
    from .model import spec

    return Problem(spec.load(resolve(path)))


@_user_errors
def loads(text: str, origin: str = "<spec>") -> "Problem":
    """A problem from TOML text (``origin`` names it in messages)."""
    _given(text, str, "TOML text", "text")
    from .model import spec

    return Problem(spec.load(str(origin), text=text))


@_user_errors
def from_dict(data: dict, origin: str = "<spec>") -> "Problem":
    """A problem from already parsed TOML."""
    from .model import spec

    return Problem(spec.from_dict(data, str(origin)))


class Problem:
    """A validated problem (its fields are the spec's) and what symprop makes of it."""

    def __init__(self, data: spec.Problem):
        self.spec = data

    def __getattr__(self, name):
        return getattr(self.spec, name)

    @_user_errors
    def graph(self):
        from .derive.graph import graph_of

        return graph_of(self.spec)

    @_user_errors
    def derivation(self):
        from .derive.backprop import derivation_of

        return derivation_of(self.spec)

    @_user_errors
    def gradients(self) -> dict:
        """``{param: sympy.Expr}``: each gradient in closed form (a matrix for a
        matrix parameter), in the params, inputs and undefined functions."""
        from .derive.closed_form import closed_gradients
        from .model.functions import plain

        return {name: plain(g) for name, g in closed_gradients(self.derivation()).items()}

    @_user_errors
    def solve(self) -> dict:
        """The numbers of the worked solution, as the JSON contract gives them."""
        return self.solution().to_json()

    @_user_errors
    def solution(self, exact: bool = True) -> "Solution":
        """The worked solution as an object (it displays itself in Jupyter); in
        floating point only, without the exact pass, when not ``exact``."""
        return Solution(numbers(self.spec, _flag(exact, "exact")))

    @_user_errors
    def compiled(self) -> Machine:
        """The program ready for numbers: ``compiled().run(values)`` is one
        forward and backward pass with NumPy (``.loss``, ``.values``,
        ``.adjoints`` by name, parameters included)."""
        from .derive.program import program_of
        from .evaluate.arrays import Machine

        return Compiled(Machine(program_of(self.spec), self.spec.conventions.relu_grad_at_zero))

    @_user_errors
    def codegen(self, target: str = "numpy") -> str:
        """The forward and backward pass as a standalone Python module (``symprop codegen``):
        ``forward(values)`` and ``backward(values)``, importing only NumPy, PyTorch or JAX."""
        return codegen(self.spec, target)

    @_user_errors
    def check(self, against: str = "all", lang: str = "en") -> tuple[str, bool]:
        """The report of ``symprop check`` (in ``lang``) and whether everything agrees."""
        return check_report(self.spec, against, lang)

    @_user_errors
    def document(self, fmt: str = "markdown", lang: str | None = None, standalone: bool = False,
                 audience: str = "teacher", digits: int | None = None) -> str:
        """The symbolic derivation as text, LaTeX, MyST, Markdown or JSON (the document's structure)."""
        _document_options(fmt, lang, audience, digits)
        from .document.render import render
        from .document.solution import derivation_document

        return render(derivation_document(self.spec, lang, audience, digits), fmt, standalone)

    @_user_errors
    def variants(self, count: int = 10, seed: int = 0) -> "Variants":
        """``count`` variants of the problem with new numbers and their answers
        (the same seed gives the same variants)."""
        _given(count, int, "an integer", "count")
        _given(seed, int, "an integer", "seed")
        from .evaluate.variants import draw_variants

        return Variants(self.spec, draw_variants(self.spec, count, seed))

    def _repr_markdown_(self) -> str:
        """Jupyter shows Markdown with $…$ math; a LaTeX repr would go to MathJax,
        which takes formulas, not a document with sections and tables."""
        return self.document("markdown")


def _numeric(value) -> bool:
    """A number, a numeric array, or a list of them (a sequence by t)."""
    import numpy as np

    if isinstance(value, list):
        return bool(value) and all(_numeric(v) and not isinstance(v, list) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf" and value.ndim <= MAX_AXES
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


class Compiled:
    """The program ready for numbers (an ``evaluate.arrays.Machine``), whose
    ``run`` checks what it is given."""

    def __init__(self, machine: Machine):
        self.machine = machine

    def __getattr__(self, name):
        return getattr(self.machine, name)

    @_user_errors
    def code(self, target: str = "numpy") -> str:
        """This pass as straight-line source, a standalone module (``symprop codegen``)."""
        return codegen(self.machine.program.problem, target)

    @_user_errors
    def run(self, values: dict):
        _given(values, dict, "a dict of values by name", "values")
        for name, value in values.items():
            if not _numeric(value):
                raise SympropError(f"values[{name!r:.40}] must be a number, an array or a list of them "
                                   f"(a sequence), got {type(value).__name__}")
        return self.machine.run(values)


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
        """The worked solution as text, LaTeX, MyST, Markdown or JSON (the document's structure): exact numbers
        where the solution has them (``exact``; 3/8 for 0.375 with ``fractions``)."""
        _document_options(fmt, lang, audience, digits)
        _flag(fractions, "fractions")
        _flag(exact, "exact")
        from .document.render import render
        from .document.solution import solution_document

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
        from .document.answer_key import variant_spec

        return [variant_spec(self.problem, v, k) for k, v in enumerate(self.drawn, start=1)]

    @_user_errors
    def toml(self) -> list[str]:
        """Each variant's spec as TOML text."""
        import tomli_w

        return [tomli_w.dumps(data, multiline_strings=True) for data in self.specs()]

    @_user_errors
    def key(self, fmt: str = "markdown", lang: str | None = None, fractions: bool = False,
            standalone: bool = False) -> str:
        """The answer key: every variant's numbers and answers (JSON: a list of
        {"values", "answers"} with exact answers as strings "3/8")."""
        from .document.answer_key import answer_key, key_json
        from .document.render import render

        if fmt == "json":
            return strict_json(key_json(self.drawn))
        _document_options(fmt, lang, "teacher", None)
        _flag(fractions, "fractions")
        return render(answer_key(self.problem, self.drawn, lang, fractions), fmt, standalone)


@_user_errors
def check_report(problem: spec.Problem, against: str = "all", lang: str = "en") -> tuple[str, bool]:
    """The text ``symprop check`` prints (in ``lang``), and whether every check agrees."""
    _choice(against, against_choices(), "against")  # a check registered since import counts
    _choice(lang, LANGUAGES, "lang")
    from .document.render.document import no_controls
    from .document.render.text import check_text
    from .evaluate.check import run_checks

    report = run_checks(problem, against)
    text = check_text(problem, report.checks, report.expected, lang)
    summary = phrase(lang, "check_all_passed" if report.ok else "check_some_failed")
    return f"{no_controls(problem.title_in(lang))}\n\n{text}\n\n{summary}\n", report.ok


# What the command line and the Sphinx extension call: they import this module
# only (an import-linter contract keeps them so).  The names above serve them too:
# AUDIENCES, LANGUAGES, STRINGS, read_spec, reference, resolve, shipped, title_of;
# and the names of the layers below that __getattr__ gives.
BELOW = ("render", "render_files", "no_controls", "Figure", "solution_document", "derivation_document", "run_checks")


def __getattr__(name: str):
    """The names in BELOW, imported when first read (PEP 562), so that
    importing this module loads neither SymPy nor NumPy."""
    if name not in BELOW:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .document.render import render, render_files
    from .document.render.document import no_controls
    from .document.solution import Figure, derivation_document, solution_document
    from .evaluate.check import run_checks

    return {"render": render, "render_files": render_files, "no_controls": no_controls, "Figure": Figure, "run_checks": run_checks,
            "solution_document": solution_document, "derivation_document": derivation_document}[name]


@_user_errors
def load_spec(path, text: str | None = None) -> spec.Problem:
    """The validated spec of a file (or of ``text`` read from it), without the API's wrapper.
    A file that cannot be read, or is not TOML, is refused before SymPy is imported."""
    data, folder = load_toml(path, text)
    from .model.spec import from_dict as validated

    return validated(data, str(path), folder)


@_user_errors
def numbers(problem: spec.Problem, exact: bool = True):
    """The worked solution's numbers (every step, every check) of a validated spec
    (in floating point only, without the exact pass, when not ``exact``)."""
    from .evaluate.numeric import solve

    return solve(problem, exact)


@_user_errors
def derivation_json(problem: spec.Problem) -> dict:
    """``symprop derive --format json``: the derivation as data."""
    from .document.render.json import (
        derivation_json as build,  # JSON's renderer only when asked for
    )

    return build(problem)


TARGETS = ("numpy", "torch", "jax")


@_user_errors
def codegen(problem: spec.Problem, target: str = "numpy") -> str:
    """``symprop codegen``: the pass as a standalone module for NumPy, PyTorch or JAX."""
    _choice(target, TARGETS, "target")
    from .evaluate.codegen import generate

    return generate(problem, target)


@_user_errors
def draw(problem: spec.Problem, fmt: str, grad: bool = False, unrolled: bool = False, lang: str | None = None) -> str:
    """``symprop graph``: the computational graph in DOT, SVG, TikZ or Mermaid."""
    from .document.pictures import draw as picture  # Graphviz's pictures only when asked for

    return picture(problem, fmt, grad=grad, unrolled=unrolled, lang=lang)


@_user_errors
def draw_norms(problem: spec.Problem, fmt: str = "svg", lang: str | None = None) -> str:
    """``symprop graph --norms``: |∂L/∂hₜ| (‖∂L/∂hₜ‖ of a vector state) of every
    recurrent state over t, on a log scale, as SVG or PGFPlots (``tikz``); a model
    with no recurrent state is a SympropError."""
    _choice(fmt, ("svg", "tikz"), "fmt")
    _choice(lang, LANGUAGES, "lang", optional=True)
    from .document.bptt_plot import draw_norms as plot

    return plot(problem, fmt, lang)
