"""The symbolic derivation as JSON: expressions as SymPy strings and LaTeX."""

import sympy

from ...derive.backprop import Derivation, derivation_of
from ...derive.closed_form import ClosedForms
from ...derive.program import has_arrays, program_of
from ...derive.sweep import matrix_form_of
from ...evaluate.scalar import too_large
from ...model.spec import LOSS
from ..formulas import formula_rows, latex_style, text_style
from ..printing import TextPrinter, unicode_name
from .latex_printer import SympropLatexPrinter, latex, latex_name


def _expr(e) -> dict | None:
    """A formula as SymPy's plain string (machine-readable) and as LaTeX."""
    if e is None:
        return None
    return {"text": sympy.sstr(e), "latex": latex(e)}


def bptt_json(d: Derivation) -> dict | None:
    from ...derive.bptt import bptt

    b = bptt(d)
    if b is None:
        return None
    return {
        "steps": b.steps,
        "states": b.states,
        "cell": {n.symbol.name: _expr(n.expr) for n in b.cell.nodes},
        "recursions": {
            r.node.name: {"same_step": _expr(r.same_step), "next_step": _expr(r.next_step)}
            for r in b.recursions
        },
        "params": {
            p.name: {
                "through_time": p.through_time,
                "states": p.states,
                "summand": _expr(p.adjoint_form),
                "immediate": {s: _expr(e) for s, e in p.immediate.items()},
                # through the lines outside the loop; an initial state: ∂L/∂h₁ carried back to t = 0
                "outside": _expr(p.outside),
                "start": _expr(p.start),
            }
            for p in b.params
        },
        "transition": {s: _expr(e) for s, e in b.transition.items()},
        "step_loss_gradient": {s: _expr(e) for s, e in b.step_loss_grad.items()},
    }


def derivation_json(problem) -> dict:
    """The derivation: the scalar engine's nodes, adjoints and closed forms
    (problems small enough to expand), and the matrix form (vectors and matrices)."""
    program = program_of(problem)
    arrays = has_arrays(program)
    skipped = too_large(program, "the entry-by-entry engine expands problems")
    if arrays and skipped:
        out = {"title": problem.title, "scalar": {"skipped": skipped}}
    else:
        out = _scalar_json(derivation_of(problem))
    if arrays:
        out["matrix_form"] = _matrix_json(problem)
    return out


def _matrix_json(problem) -> list[dict]:
    base, seq = problem.conventions.index_base, problem.sequences
    names = seq | {LOSS}
    notation = problem.notation
    text_rows = formula_rows(matrix_form_of(problem), lambda k: unicode_name(k, base, names, notation),
                             TextPrinter(base, seq, notation), text_style(notation))
    latex_rows = formula_rows(matrix_form_of(problem), lambda k: latex_name(k, base, names, notation),
                              SympropLatexPrinter(base, seq, notation), latex_style(notation))
    return [{"left": tl, "right": ts, "left_latex": ll, "right_latex": ls, "note": note}
            for (tl, ts, note), (ll, ls, _) in zip(text_rows, latex_rows)]


def _scalar_json(d: Derivation) -> dict:
    graph = d.graph
    forms = ClosedForms(d)
    if graph.cell is not None and graph.problem.steps > 6:
        return {"title": graph.problem.title, "bptt": bptt_json(d)}
    out = {
        "title": graph.problem.title,
        "nodes": [
            {
                "name": n.symbol.name,
                "expr": _expr(n.expr),
                "local": {p.name: _expr(e) for p, e in d.local[n.symbol].items()},
            }
            for n in graph.nodes
        ],
        "adjoints": {
            n.symbol.name: _expr(d.adjoints[n.symbol])
            for n in reversed(graph.nodes)
            if n.symbol != graph.loss
        },
        "gradients": {
            p.name: {
                "adjoint_form": _expr(d.gradients[p]),
                "closed_form": _expr(forms.of_adjoint(p)),
            }
            for p in graph.param_symbols()
        },
    }
    if graph.cell is not None:
        out["bptt"] = bptt_json(d)
    return out
