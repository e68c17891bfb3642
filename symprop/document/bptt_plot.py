"""``symprop graph SPEC --norms``: the plot of BPTT on its own, |∂L/∂hₜ| (‖∂L/∂hₜ‖)
over t on a log scale, as the worked solution draws it (``parts/norms.py``)."""

from ..derive.program import program_of
from ..errors import SympropError
from .blocks import Para, Plot
from .maths import printed
from .numbers import Style
from .pictures import _first_pass, _language
from .plots import to_pgfplots, to_svg
from .printing import TextPrinter
from .render.latex_printer import SympropLatexPrinter
from .solution import _Builder

NORMS_FORMATS = ("svg", "tikz")


def norms_plot(problem, lang: str | None = None) -> Plot:
    """The plot of the first pass's state adjoints, its words in ``lang`` (default: the problem's)."""
    lang = _language(problem, lang)
    program = program_of(problem)
    if not program.states:
        raise SympropError("--norms plots ∂L/∂hₜ over the steps of a recurrent model, and this one has "
                           "no hidden state (no model.steps, or no value read at t-1)", where=problem.origin)
    if not problem.values:
        raise SympropError("--norms plots numbers, and the spec has no [values]", where=problem.origin)
    builder = _Builder(problem, lang, "teacher", Style())
    plot = next((b for b in builder.norms_blocks(_first_pass(problem)) if isinstance(b, Plot)), None)
    if plot is None:
        raise SympropError("∂L/∂hₜ is 0 at every step: a log scale has nothing to show", where=problem.origin)
    return plot


def draw_norms(problem, fmt: str, lang: str | None = None) -> str:
    """The plot as a standalone SVG file, or as PGFPlots (a tikzpicture)."""
    if fmt not in NORMS_FORMATS:
        raise SympropError(f"--norms draws {' or '.join(NORMS_FORMATS)}, not {fmt}")
    plot = norms_plot(problem, lang)
    base, sequences = problem.conventions.index_base, problem.sequences
    if fmt == "svg":
        printer = TextPrinter(base, sequences)

        def text(item) -> str:
            parts = item.parts if isinstance(item, Para) else [item]
            return "".join(x if isinstance(x, str) else printed(x, printer, False) for x in parts)

        return '<?xml version="1.0" encoding="UTF-8"?>\n' + to_svg(plot, text) + "\n"
    latex = SympropLatexPrinter(base, sequences)
    return "% \\usepackage{pgfplots} \\pgfplotsset{compat=1.16}\n" + to_pgfplots(plot, lambda x: printed(x, latex, True))
