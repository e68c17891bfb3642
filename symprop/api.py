"""The Python API: a loaded problem and the pipeline run on it, on demand.

``symprop.load(path)`` gives a ``Problem``: the validated spec (data, from
``model``) with the methods of the contract (``gradients``, ``solve``,
``solution``, ``document``), each running the layers below and caching what
they build.  Nothing below this module imports it.
"""

from dataclasses import dataclass
from pathlib import Path

from .derive.backprop import derivation_of
from .derive.closed_form import closed_gradients
from .derive.graph import graph_of
from .derive.program import program_of
from .document.render import render
from .document.render.text import check_text
from .document.solution import derivation_document, solution_document
from .evaluate import numeric
from .evaluate.arrays import Machine
from .evaluate.check import run_checks
from .model import spec
from .model.shipped import resolve


def load(path: str | Path) -> "Problem":
    """A problem from a path or a shipped name (``"udl_toy"``)."""
    return Problem(spec.load(resolve(path)))


def loads(text: str, origin: str = "<spec>") -> "Problem":
    """A problem from TOML text (``origin`` names it in messages)."""
    return Problem(spec.load(origin, text=text))


def from_dict(data: dict, origin: str = "<spec>") -> "Problem":
    """A problem from already parsed TOML."""
    return Problem(spec.from_dict(data, origin))


class Problem:
    """A validated problem (its fields are the spec's) and what symprop makes of it."""

    def __init__(self, data: spec.Problem):
        self.spec = data

    def __getattr__(self, name):
        return getattr(self.spec, name)

    def graph(self):
        return graph_of(self.spec)

    def derivation(self):
        return derivation_of(self.spec)

    def gradients(self) -> dict:
        """``{param: sympy.Expr}``: each gradient in closed form (a matrix for a
        matrix parameter), in the params, inputs and undefined functions."""
        return closed_gradients(self.derivation())

    def solve(self) -> dict:
        """The numbers of the worked solution, as the JSON contract gives them."""
        return self.solution().to_json()

    def solution(self) -> "Solution":
        """The worked solution as an object (it displays itself in Jupyter)."""
        return Solution(numeric.solve(self.spec))

    def compiled(self) -> Machine:
        """The program ready for numbers: ``compiled().run(values)`` is one
        forward and backward pass with NumPy (``.loss``, ``.values``,
        ``.adjoints`` by name, parameters included)."""
        return Machine(program_of(self.spec), self.spec.conventions.relu_grad_at_zero)

    def check(self, against: str = "all") -> tuple[str, bool]:
        """The report of ``symprop check`` and whether everything agrees."""
        return check_report(self.spec, against)

    def document(self, fmt: str = "markdown", lang: str | None = None, standalone: bool = False,
                 audience: str = "teacher", digits: int | None = None) -> str:
        """The symbolic derivation as text, LaTeX, MyST or Markdown."""
        return render(derivation_document(self.spec, lang, audience, digits), fmt, standalone)

    def _repr_markdown_(self) -> str:
        """Jupyter shows Markdown with $…$ math; a LaTeX repr would go to MathJax,
        which takes formulas, not a document with sections and tables."""
        return self.document("markdown")


@dataclass
class Solution:
    """The numbers of a worked solution and the documents made of them."""

    numbers: numeric.Solution

    def __getattr__(self, name):
        return getattr(self.numbers, name)

    def to_json(self) -> dict:
        return self.numbers.to_json()

    def document(self, fmt: str = "markdown", lang: str | None = None, standalone: bool = False,
                 audience: str = "teacher", digits: int | None = None) -> str:
        """The worked solution as text, LaTeX, MyST or Markdown."""
        return render(solution_document(self.numbers.problem, self.numbers, lang, audience, digits), fmt,
                      standalone)

    def _repr_markdown_(self) -> str:
        return self.document("markdown")


def check_report(problem: spec.Problem, against: str = "all") -> tuple[str, bool]:
    """The text ``symprop check`` prints, and whether every check agrees."""
    report = run_checks(problem, against)
    text = check_text(problem, report.checks, report.expected)
    summary = "all checks passed" if report.ok else "some checks FAILED"
    return f"{problem.title}\n\n{text}\n\n{summary}\n", report.ok
