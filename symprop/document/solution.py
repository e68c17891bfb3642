"""A worked solution as a format-free document.

The engine's derivation and numbers become lettered questions, each with its
solution: prose (by key, from ``strings``), rows of equations (SymPy objects,
numbers, or matrix formulas already printed), and tables.  One renderer per
format turns it into text, LaTeX, MyST or Markdown.
"""

from dataclasses import replace

from ..model.reading import in_language
from .blocks import Document, Figure, Para, UserText  # noqa: F401  (Figure: the API's)
from .numbers import Style
from .parts.answers import Answers
from .parts.arrays import Arrays
from .parts.backward_arrays import BackwardArrays
from .parts.base import Base
from .parts.checks import Checks
from .parts.matrix import Matrix
from .parts.norms import Norms
from .parts.numeric import Numeric
from .parts.questions import Questions
from .parts.statement import Statement
from .parts.symbolic import Symbolic


class _Builder(Checks, Answers, Numeric, Arrays, BackwardArrays, Norms, Matrix, Symbolic, Questions, Statement, Base):
    """A document's builder: each piece's methods in a module of ``parts/``."""



def derivation_document(problem, lang: str | None = None, audience: str = "teacher",
                        digits: int | None = None) -> Document:
    return _document(problem, None, lang, audience, Style(digits))


def solution_document(problem, solution, lang: str | None = None, audience: str = "teacher",
                      digits: int | None = None, exact: bool = True, fractions: bool = False) -> Document:
    """The worked solution; with ``exact``, in exact numbers where the solution
    has them (``numeric.Solution.exact``), 3/8 for 0.375 with ``fractions``."""
    if exact and solution.exact is not None:
        return _document(problem, replace(solution, steps=solution.exact), lang, audience,
                         Style(digits, exact=True, fractions=fractions))
    return _document(problem, solution, lang, audience, Style(digits))


def _document(problem, solution, lang, audience, style: Style) -> Document:
    b = _Builder(problem, lang, audience, style)
    statement = b.statement(solution is not None)
    text = in_language(problem.statement, b.lang) if problem.statement else None
    if text:
        statement.insert(0, Para([UserText(text)]))
    return Document(problem.title_in(b.lang), b.lang, problem.source_in(b.lang), statement,
                    b.parts(solution), problem.conventions.index_base, problem.sequences,
                    b.answers(solution) + b.appendix(solution),
                    problem.notation)
