"""A source's formula quoted as mathematics: the claim's text, read by the
parser's whitelist (``claim_syntax``), printed as written — the factors in
the source's order, its mistakes kept — with the problem's names and notation.

``W.T @ adjoint(h[t+1]) @ diag(1 - h[t+1]**2)`` is Wᵀ·∂L/∂hₜ₊₁·diag(1 - hₜ₊₁²)
(∇_h⁽ᵗ⁺¹⁾ L·… in seed 004's notation); ``D(f)(z)`` is f'(z), ``sum_t(e)`` Σₜ e.
A product ``*`` of arrays is ⊙, as the matrix formulas print it.
"""

import ast

from ..model.claim_syntax import ADJOINT, DIAG, SUM_T
from ..model.parse import parse_syntax
from .maths import Typeset
from .render.latex_printer import function_name

_LEVEL = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.MatMult: 2, ast.Div: 2, ast.Pow: 4}
_ATOM = 5


class _Quote:
    """One walk of the tree in one style: ``latex`` or Unicode text."""

    def __init__(self, latex: bool, name_of, adjoint_of, arrays: bool):
        self.latex, self.name_of, self.adjoint_of, self.arrays = latex, name_of, adjoint_of, arrays

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.latex else f"({s})"

    def go(self, node) -> tuple[str, int]:
        """The printed node and how tightly it binds (an atom 5, a sum 1)."""
        if isinstance(node, ast.Constant):
            return repr(node.value), _ATOM
        if isinstance(node, ast.Name):
            return self.name_of(node.id), _ATOM
        if isinstance(node, ast.Subscript):
            return self.subscript(node), _ATOM
        if isinstance(node, ast.Attribute):  # x.T
            inner = self.operand(node.value, _ATOM, raised=True)
            return (inner + r"^{\top}" if self.latex else inner + "ᵀ"), 4
        if isinstance(node, ast.UnaryOp):
            sign = "-" if isinstance(node.op, ast.USub) else "+"
            return sign + self.operand(node.operand, 3), 3
        if isinstance(node, ast.BinOp):
            return self.binary(node), _LEVEL[type(node.op)]
        return self.call(node), _ATOM

    def operand(self, node, level: int, raised: bool = False, strict: bool = False) -> str:
        s, own = self.go(node)
        names_raised = raised and own == _ATOM and s.endswith(("⁾", ")}", "'", "′"))
        return self.paren(s) if own < level or (strict and own == level) or names_raised else s

    def binary(self, node: ast.BinOp) -> str:
        op, level = type(node.op), _LEVEL[type(node.op)]
        if op is ast.Pow:
            base = self.operand(node.left, _ATOM, raised=True)
            exponent, _ = self.go(node.right)
            if not self.latex and exponent == "2":
                return base + "²"
            return base + (f"^{{{exponent}}}" if self.latex else f"^{exponent}")
        (left, left_level), (right, right_level) = self.go(node.left), self.go(node.right)
        if op is ast.Div and self.latex and min(left_level, right_level) >= 4:
            return rf"\frac{{{left}}}{{{right}}}"  # γ/σ as a fraction; (…)/4 stays on the line
        left = self.paren(left) if left_level < level else left
        strict = op in (ast.Sub, ast.Div)
        right = self.paren(right) if right_level < level or (strict and right_level == level) else right
        if op in (ast.Mult, ast.MatMult):  # W·(∇ₕL)·x, as seed 004 writes it, not W·∇ₕL·x
            left, right = (self.paren(s) if _is_adjoint(n) and s.endswith(" L") else s
                           for n, s in ((node.left, left), (node.right, right)))
        if op is ast.Mult and self.arrays and not any(isinstance(x, ast.Constant) for x in (node.left, node.right)):
            sign = r" \odot " if self.latex else " ⊙ "
        else:
            sign = {ast.Add: " + ", ast.Sub: " - ", ast.Div: "/", ast.Mult: r" \cdot " if self.latex else "·",
                    ast.MatMult: r" \cdot " if self.latex else "·"}[op]
        return left + sign + right

    def subscript(self, node: ast.Subscript) -> str:
        keys = []
        base = node
        while isinstance(base, ast.Subscript):
            keys.insert(0, ast.unparse(base.slice).replace(" ", ""))
            base = base.value
        if isinstance(base, ast.Name):
            return self.name_of(base.id + "".join(f"[{k}]" for k in keys))
        inner = self.operand(base, _ATOM)
        return inner + "".join(rf"\left[{k}\right]" if self.latex else f"[{k}]" for k in keys)

    def call(self, node: ast.Call) -> str:
        args = ", ".join(self.go(a)[0] for a in node.args)
        if isinstance(node.func, ast.Call):  # D(f)(z): f'(z)
            f = node.func.args[0].id
            name = (function_name(f) if f not in self.name_functions else f) if self.latex else f
            return rf"{name}'\left({args}\right)" if self.latex else f"{name}'({args})"
        f = node.func.id
        if f == ADJOINT:
            return self.adjoint_of(self.key(node.args[0]))
        if f == SUM_T:
            inner = self.operand(node.args[0], 2)
            return (r"\sum_{t} " if self.latex else "Σₜ ") + inner
        if f == DIAG:
            return rf"\operatorname{{diag}}\left({args}\right)" if self.latex else f"diag({args})"
        name = function_name(f) if self.latex and f not in self.name_functions else f
        return rf"{name}\left({args}\right)" if self.latex else f"{name}({args})"

    name_functions: frozenset = frozenset()  # the model's own functions: f, g as written

    def key(self, node) -> str:
        """adjoint(h[t+1]): the key of what it is the adjoint of, as the names are written."""
        return ast.unparse(node).replace(" ", "")


def _is_adjoint(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == ADJOINT


def quoted(text: str, names, adjoint, arrays: bool, functions=()) -> Typeset:
    """The formula ``text`` (a checked claim) as mathematics, set by each renderer's printer:
    ``names`` is a pair (text, LaTeX) of the document's printers of a key, ``adjoint`` the
    adjoint of a key as a SymPy object."""
    tree = parse_syntax(text).body

    def make(printer, latex: bool) -> str:
        q = _Quote(latex, names[latex], lambda key: printer.doprint(adjoint(key)), arrays)
        q.name_functions = frozenset(functions)
        return q.go(tree)[0]

    return Typeset(make)
