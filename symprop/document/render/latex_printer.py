"""LaTeX as a careful teacher writes it.

``omega0`` is \\omega_{0}, ``yhat[t-1]`` is \\hat{y}_{t-1}, ``W[1][0]`` with
index_base 1 is w_{21}, an undefined activation's derivative is f', relu' is
the indicator [z > 0], an adjoint is \\frac{\\partial L}{\\partial f_{3}}.
"""

from sympy.printing.latex import LatexPrinter

from ...derive.mathobj import Verbatim
from ..printing import positive_first, product_parts, split_name

ACCENTS = {"hat": r"\hat", "bar": r"\bar", "tilde": r"\tilde"}
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}


def latex_name(name: str, index_base: int = 0, sequences=frozenset()) -> str:
    if name.startswith("dL/d"):
        return r"\frac{\partial L}{\partial " + latex_name(name[4:], index_base, sequences) + "}"
    sequences = frozenset(sequences) | {"L"}
    entry = "[" in name and name.split("[", 1)[0] not in sequences
    base, accent, subs, version = split_name(name, index_base, sequences)
    if entry and base[:1].isupper() and len(base) == 1 and name.count("[") == 2:
        base = base.lower()  # the entries w_{ij} of a matrix W
    if base == "lamda":
        base = "lambda"
    text = f"\\{base}" if base in GREEK else (base if len(base) == 1 else rf"\mathrm{{{base}}}")
    if accent:
        text = f"{ACCENTS[accent]}{{{text}}}"
    if subs:
        text += "_{" + ",".join(subs) + "}"
    if version:
        text += "^{(" + version + ")}"
    return text


class SympropLatexPrinter(LatexPrinter):
    """sympy's LatexPrinter with symprop's names, derivatives and display objects."""

    def __init__(self, index_base: int = 0, sequences=frozenset()):
        super().__init__({"mul_symbol": "dot", "fold_short_frac": False, "order": "none"})
        self.index_base = index_base
        self.sequences = frozenset(sequences) | {"L"}

    def _as_ordered_terms(self, expr, order=None):
        return positive_first(super()._as_ordered_terms(expr, order=order))

    def _print_Symbol(self, expr, style="plain"):
        if isinstance(expr, Verbatim):
            return expr.name
        return latex_name(expr.name, self.index_base, self.sequences)

    _print_AdjointSymbol = _print_Symbol

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        special = name in ("relu_prime", "relu", "sigmoid") or name.endswith("_prime") or hasattr(
            type(expr), "undefined_name"
        )
        if not special:  # print the arguments once: twice a level is 2^depth
            return super()._print_Function(expr, exp)
        args = ", ".join(self._print(a) for a in expr.args)
        if name == "relu_prime":
            text = rf"\left[{args} > 0\right]"
        elif name.endswith("_prime"):
            text = rf"{name[:-6]}'\left({args}\right)"
        elif name == "relu":
            text = rf"\operatorname{{ReLU}}\left({args}\right)"
        elif name == "sigmoid":
            text = rf"\sigma\left({args}\right)"
        else:
            text = rf"{name}\left({args}\right)"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_Product(self, expr):
        return r" \cdot ".join(product_parts(self, expr, lambda s: rf"\left({s}\right)"))

    def _print_Boxed(self, expr):
        return r"\boxed{" + self._print(expr.args[0]) + "}"

    def _print_Partial(self, expr):
        num, den = (self._print(a) for a in expr.args)
        return rf"\frac{{\partial {num}}}{{\partial {den}}}"

    def _print_Sum(self, expr):
        body, index, low, high = expr.args
        return (
            rf"\sum_{{{self._print(index)}={self._print(low)}}}^{{{self._print(high)}}} "
            + self._print(body)
        )


def latex(expr, index_base: int = 0, sequences=frozenset()) -> str:
    return SympropLatexPrinter(index_base, sequences).doprint(expr)
