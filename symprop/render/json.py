"""The symbolic derivation as JSON: expressions as SymPy strings and LaTeX."""

import sympy

from ..backprop import Derivation
from ..closed_form import ClosedForms


def _expr(e) -> dict | None:
    if e is None:
        return None
    return {"text": sympy.sstr(e), "latex": sympy.latex(e)}


def derivation_json(d: Derivation) -> dict:
    graph = d.graph
    forms = ClosedForms(d)
    return {
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
