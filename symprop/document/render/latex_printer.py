"""LaTeX as a careful teacher writes it.

``omega0`` is \\omega_{0}, ``yhat[t-1]`` is \\hat{y}_{t-1}, ``W[1][0]`` with
index_base 1 is w_{21}, an undefined activation's derivative is f', relu' is
the indicator [z > 0], an adjoint is \\frac{\\partial L}{\\partial f_{3}}.
"""

import re

from sympy.printing.latex import LatexPrinter

from ...derive.mathobj import Verbatim
from ...model.functions import RULES
from ...model.notation import DEFAULT, Notation
from ...model.spec import LOSS
from ..blocks import _texttt
from ..maths import printed
from ..numbers import _sci_latex
from ..printing import (
    PrimeNotation,
    chain_order,
    has_digits,
    is_update,
    nabla_in_brackets,
    name_parts,
    positive_first,
    product_parts,
    step_bracket,
    written_order,
)

ACCENTS = {"hat": r"\hat", "bar": r"\bar", "tilde": r"\tilde"}
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}


def adjoint_latex(key: str, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT) -> str:
    """∂L/∂ of the value ``key`` names, as a fraction (∇ₓL in a notation that writes ∇)."""
    name = latex_name(key, index_base, sequences, notation)
    return rf"\nabla_{{{name}}} L" if notation.nabla else r"\frac{\partial L}{\partial " + name + "}"


def latex_name(name: str, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT) -> str:
    if name == "T" and notation.last_step == "tau":
        return r"\tau"
    sequences = frozenset(sequences) | {LOSS}
    entry = "[" in name and name.split("[", 1)[0] not in sequences
    base, accent, subs, time, version = name_parts(name, index_base, sequences)
    if time is not None and not notation.superscript:
        subs.insert(1 if subs and has_digits(name) else 0, time)
        time = None
    if (entry and base[:1].isupper() and len(base) == 1 and name.count("[") == 2
            and notation.entries == "lowercase"):
        base = base.lower()  # the entries w_{ij} of a matrix W
    if base == "lamda":
        base = "lambda"
    text = f"\\{base}" if base in GREEK else (base if len(base) == 1 else rf"\mathrm{{{base}}}")
    if accent:
        text = f"{ACCENTS[accent]}{{{text}}}"
    if subs:
        text += "_{" + ",".join(subs) + "}"
    if time is not None:
        text += "^{(" + time + ")}"
    if version:
        text = _versioned(text, name, version, bool(subs), time is not None, notation)
    return text


def _versioned(text: str, name: str, version: str, subscripted: bool, raised: bool, notation: Notation) -> str:
    """z^{(1)} for a reassigned z; a parameter after k steps as the notation writes it."""
    if is_update(name, notation) and version.isdigit():
        if notation.updated == "prime" and int(version) <= 3:
            return ("{" + text + "}" if raised else text) + "'" * int(version)
        if notation.updated == "subscript" and not subscripted:
            return text + "_{" + version + "}"
    return ("{" + text + "}" if raised else text) + "^{(" + version + ")}"


# Functions as books set them; any other name is \operatorname{name} (relu and
# sigmoid: see _print_Function).
FUNCTIONS = {"log_softmax": r"\log\operatorname{softmax}",
             **{name: rule.latex for name, rule in RULES.items() if rule.latex}}
RELATIONS = {">": ">", "≥": r"\geq", "<": "<", "≤": r"\leq"}


def function_name(name: str) -> str:
    """A function's name in LaTeX: \\max, \\operatorname{softplus}, \\operatorname{tanh}."""
    return FUNCTIONS.get(name) or r"\operatorname{" + name.replace("_", r"\_") + "}"


LONG_EXPONENT = 4.0  # em: a longer exponent of e is written \exp(…)


class SympropLatexPrinter(PrimeNotation, LatexPrinter):
    """sympy's LatexPrinter with symprop's names, derivatives and display objects."""

    def __init__(self, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT):
        super().__init__({"mul_symbol": "dot", "fold_short_frac": False, "order": "none"})
        self.index_base = index_base
        self.sequences = frozenset(sequences) | {LOSS}
        self.notation = notation

    def _as_ordered_terms(self, expr, order=None):
        return positive_first(super()._as_ordered_terms(expr, order=order))

    def _print_Symbol(self, expr, style="plain"):
        if isinstance(expr, Verbatim):
            return expr.name
        return latex_name(expr.name, self.index_base, self.sequences, self.notation)

    def _print_AdjointSymbol(self, expr, style="plain"):
        return adjoint_latex(expr.of, self.index_base, self.sequences, self.notation)

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        special = name in ("relu_prime", "relu", "sigmoid", *FUNCTIONS) or name.endswith("_prime") or hasattr(
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
        elif name in FUNCTIONS:
            text = rf"{FUNCTIONS[name]}\left({args}\right)"
        else:
            text = rf"{name}\left({args}\right)"
        return f"{text}^{{{exp}}}" if exp else text

    def primed(self, name: str, at: str) -> str:
        return rf"{name}\left({at}\right)"

    def _print_Heaviside(self, expr, exp=None):
        """The step as an Iverson bracket, [z > 0], as relu' is; H(a − b) with H(0) = ½."""
        bracket = step_bracket(expr)
        if bracket is None:
            text = rf"H\left({self._print(expr.args[0])}\right)"
        else:
            text = rf"\left[{self._print(bracket[0])} {RELATIONS[bracket[1]]} 0\right]"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_ExpBase(self, expr, exp=None):
        """e^{x} for a short exponent, \\exp(…) for a long one."""
        arg = self._print(expr.args[0])
        if width(arg) > LONG_EXPONENT or is_tall(arg):
            return self._do_exponent(rf"\exp\left({arg}\right)", exp)
        return self._do_exponent(f"e^{{{arg}}}", exp)

    def doprint(self, expr):
        return tidy(super().doprint(expr))

    def _print_Product(self, expr):
        return r" \cdot ".join(product_parts(self, expr, lambda s: rf"\left({s}\right)"))

    def _print_Mul(self, expr):
        expr = chain_order(expr)
        if self.notation.written:
            expr = written_order(expr, self.notation.written)
        if self.notation.nabla:
            expr = nabla_in_brackets(self, expr, lambda s: rf"\left({s}\right)")
        return super()._print_Mul(expr)

    # The document's mathematics that is not SymPy's (maths.py) ------------------------

    def _print_PowerOfTen(self, item):
        return f"10^{{{item.exponent}}}"

    def _print_Shape(self, item):
        return "(" + r" \times ".join(map(str, item.dims)) + ")"

    def _print_Written(self, item):
        return _sci_latex(item.text)

    def _print_Tolerance(self, item):
        parts = [_sci_latex(item.absolute)] if item.absolute else []
        parts += [_sci_latex(item.percent) + r"\,\%"] if item.percent else []
        return rf"\pm {parts[0]}" if len(parts) == 1 else rf"\pm ({' + '.join(parts)})"

    def _print_Code(self, item):
        return _texttt(item.text)

    def _print_FunctionName(self, item):
        return function_name(item.name)

    def _print_Applied(self, item):
        return f"{item.function}{chr(39) if item.prime else ''}({item.argument})"

    def _print_Order(self, item):
        return f"O({self._print(item.of)})"

    def _print_StepRange(self, item):
        return rf"t = {self._print(item.first)}, \ldots, {self._print(item.last)}"

    def _print_Joined(self, item):
        return item.latex_sep.join(printed(x, self, True) for x in item.items)

    def _print_Set(self, item):
        return self._print(item.expr)

    def _print_Typeset(self, item):
        return item.make(self, True)

    def _print_Relation(self, item):
        return f"{printed(item.lhs, self, True)} = {printed(item.rhs, self, True)}"

    def _print_Unicode(self, item):
        text = item.text.replace("×", r"\times ").replace("·", r" \cdot ").replace("⊙", r" \odot ")
        return text.replace("−", "-")

    def _print_PlusPartial(self, item):
        return rf"\frac{{\partial^{{+}} {self._print(item.num)}}}{{\partial {self._print(item.den)}}}"

    def _print_UnrolledSum(self, item):
        h = item.state
        if item.superscript:
            lt, ht, hi, hj, hk = (latex_name(k, self.index_base, self.sequences, self.notation) for k in item.keys())
        else:
            lt, ht, hi, hj, hk = "L_{t}", f"{h}_{{t}}", f"{h}_{{i}}", f"{h}_{{i-1}}", f"{h}_{{k}}"
        return (rf"\frac{{\partial {lt}}}{{\partial p}} = \sum_{{k=1}}^{{t}} \frac{{\partial {lt}}}"
                rf"{{\partial {ht}}} \left( \prod_{{i=k+1}}^{{t}} \frac{{\partial {hi}}}"
                rf"{{\partial {hj}}} \right) \frac{{\partial^{{+}} {hk}}}{{\partial p}}")

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


def latex(expr, index_base: int = 0, sequences=frozenset(), notation: Notation = DEFAULT) -> str:
    return SympropLatexPrinter(index_base, sequences, notation).doprint(expr)


# ---------------------------------------------------------------------------
# Printed LaTeX, read back: a tree of groups, for tidying brackets and for
# estimating how wide a formula is set (in em of the text font).

class Group:
    """``open children close``: {…}, \\left(…\\right), (…), \\begin{env}…\\end{env}."""

    __slots__ = ("open", "children", "close")

    def __init__(self, open_: str, children: list, close: str = ""):
        self.open, self.children, self.close = open_, children, close

    def __str__(self):
        return self.open + "".join(str(c) for c in self.children) + self.close


_TOKEN = re.compile(
    r"\\(?:left|right|[bB]igg?[lr]?)\s*(?:\\[{}|]|\\[a-zA-Z]+|[()\[\].|])"  # sized delimiters
    r"|\\begin\{[a-zA-Z*]+\}|\\end\{[a-zA-Z*]+\}"
    r"|\\[a-zA-Z]+|\\."
    r"|\s+|.", re.S)
_OPENERS = {"{": "}", "(": ")", "[": "]"}


def _is_open(tok: str) -> bool:
    return tok in _OPENERS or tok.startswith(r"\begin{") or re.match(r"\\(left|[bB]igg?l)\b", tok) is not None


def _is_close(tok: str) -> bool:
    return tok in ("}", ")", "]") or tok.startswith(r"\end{") or re.match(r"\\(right|[bB]igg?r)\b", tok) is not None


def parse(text: str) -> list:
    """The tokens of ``text`` at the top level, with groups as ``Group``s;
    ``"".join(map(str, parse(text))) == text``."""
    stack: list[list] = [[]]
    opens: list[str] = []
    for tok in _TOKEN.findall(text):
        if _is_open(tok):
            stack.append([])
            opens.append(tok)
        elif _is_close(tok) and opens:
            children = stack.pop()
            stack[-1].append(Group(opens.pop(), children, tok))
        else:
            stack[-1].append(tok)
    while opens:  # unbalanced: close what is open, printing nothing
        children = stack.pop()
        stack[-1].append(Group(opens.pop(), children, ""))
    return stack[0]


def render(nodes) -> str:
    return "".join(str(n) for n in nodes)


_TALL = re.compile(r"\\(frac|dfrac|sum|prod|int|begin|binom|sqrt|boxed|left|overline|underbrace)\b")


def is_tall(text: str) -> bool:
    """Brackets around this need \\left…\\right (or \\bigl…\\bigr)."""
    return _TALL.search(text) is not None


_FUNCTION_END = re.compile(r"(\\[a-zA-Z]+|[A-Za-z]|'|\}|\\mathopen\{\})\s*$")
_SCIENTIFIC = re.compile(r"(?<![\w\\.])(-?\d+(?:\.\d+)?)e([+-]?\d+)(?![\w.])")


_SIZES = ["", r"\big", r"\Big", r"\bigg", r"\Bigg"]


def _outer_size(inner: str) -> str:
    """One size larger than the largest bracket inside: (…) in \\bigl(…\\bigr),
    that in \\Bigl(…\\Bigr), and so on; nested brackets told apart."""
    level = 0
    for k, size in enumerate(_SIZES[1:], start=1):
        if size + "l(" in inner or size + "l[" in inner:
            level = max(level, k)
    if level == 0 and not any(isinstance(n, Group) and n.open in ("(", "[") for n in parse(inner)):
        return ""
    return _SIZES[min(level + 1, len(_SIZES) - 1)]


_NOT_FUNCTIONS = {r"\cdot", r"\odot", r"\times", r"\pm", r"\le", r"\ge", r"\leq", r"\geq", r"\to",
                  r"\approx", r"\ne", r"\quad", r"\qquad", r"\sum", r"\prod", r"\in", r"\left", r"\right",
                  r"\frac", r"\dfrac", r"\tfrac"}


def _after_function(out: str) -> bool:
    m = _FUNCTION_END.search(out)
    return m is not None and m.group(1) not in _NOT_FUNCTIONS and not _after_numerator(out)


def _after_numerator(out: str) -> bool:
    """Whether ``out`` ends with the numerator group of a \\frac: the group after it
    is the denominator, not a function's argument."""
    text = out.rstrip()
    if not text.endswith("}"):
        return False
    depth = 0
    for j in range(len(text) - 1, -1, -1):
        depth += {"}": 1, "{": -1}.get(text[j], 0)
        if depth == 0:
            return re.search(r"\\[dt]?frac$", text[:j]) is not None
    return False


def _tidy_nodes(nodes: list) -> str:
    out = ""
    i = 0
    while i < len(nodes):
        node = nodes[i]
        i += 1
        if not isinstance(node, Group):
            out += node
            continue
        # sympy's \sin{\left(x \right)}: the braces make an atom that LaTeX spaces from \sin
        if node.open == "{" and len(node.children) == 1 and isinstance(node.children[0], Group) \
                and node.children[0].open.replace(" ", "") == r"\left(" and _after_function(out):
            nodes = nodes[:i] + node.children + nodes[i:]
            continue
        inner = _tidy_nodes(node.children)
        if node.open.replace(" ", "") == r"\left(" and node.close.replace(" ", "") == r"\right)":
            inner = inner.strip()
            if re.fullmatch(r"\d+(\.\d+)?", inner) and out.rstrip().endswith((r"\cdot", "=", "+")):
                out += inner  # 0.1 \cdot 1.25, not 0.1 \cdot (1.25)
            elif out.endswith(r"\mathopen{}"):
                out += node.open + inner + node.close
            elif not is_tall(inner):  # flat: plain brackets, an outer one a size larger
                size = _outer_size(inner)
                out += f"{size}l(" + inner + f"{size}r)" if size else "(" + inner + ")"
            elif _after_function(out):  # f\left( leaves a gap after f
                out += r"\mathopen{}\left(" + inner + r"\right)\mathclose{}"
            else:
                out += r"\left(" + inner + r"\right)"
            continue
        out += node.open + inner + node.close
    return out


def tidy(text: str) -> str:
    """Brackets as a careful teacher sets them: (x) for a flat argument,
    \\mathopen{}\\left(…\\right)\\mathclose{} after a function name for a tall
    one (no gap after f), and 1.2e-7 as 1.2 \\cdot 10^{-7}."""
    text = _SCIENTIFIC.sub(lambda m: (m.group(1) + r" \cdot " if m.group(1) not in ("1", "-1") else
                                      m.group(1)[:-1]) + "10^{" + str(int(m.group(2))) + "}", text)
    return _tidy_nodes(parse(text))


# Widths in em of the 11pt text font, roughly as TeX sets display mathematics.
BINARY = {"+": 1.22, "-": 1.22, r"\cdot": 0.72, r"\odot": 1.22, r"\times": 1.22, r"\pm": 1.22}
RELATION = {"=": 1.34, "<": 1.34, ">": 1.34, r"\le": 1.34, r"\ge": 1.34, r"\approx": 1.34,
            r"\to": 1.56, r"\ne": 1.34, r"\leq": 1.34, r"\geq": 1.34}
SPACES = {r"\quad": 1.0, r"\qquad": 2.0, r"\,": 0.17, r"\;": 0.28, r"\:": 0.22, r"\ ": 0.33,
          r"\!": -0.17, "~": 0.33}
ZERO = {r"\mathopen", r"\mathclose", r"\displaystyle", r"\textstyle", r"\limits", r"\nolimits",
        r"\top", r"\mathrm", r"\operatorname", r"\mathbf", r"\text", r"\hat", r"\bar", r"\tilde",
        r"\boxed", r"\frac", r"\dfrac", r"\tfrac", r"\sqrt", r"\mathit", r"\textbf", r"\mathbb",
        r"\overline", r"\vec", r"\dot"}
_ONE_ARG = {r"\mathrm": 0.5, r"\operatorname": 0.5, r"\text": 0.5, r"\textbf": 0.55, r"\mathbf": 0.55,
            r"\mathit": 0.5, r"\mathbb": 0.7, r"\hat": 1, r"\bar": 1, r"\tilde": 1, r"\vec": 1,
            r"\dot": 1, r"\overline": 1, r"\boxed": 1, r"\sqrt": 1}


def _text_width(nodes) -> float:
    return 0.5 * len(re.sub(r"\\[a-zA-Z]+|[{}]", "x", render(nodes)))


def _matrix_width(children: list) -> float:
    rows = re.split(r"\\\\", render(children))
    cells = [[width(c) for c in row.split("&")] for row in rows if row.strip()]
    if not cells:
        return 0.0
    columns = max(len(r) for r in cells)
    widest = [max((r[j] for r in cells if j < len(r)), default=0) for j in range(columns)]
    return sum(widest) + 0.9 * columns


def _node_width(node) -> float:
    if isinstance(node, Group):
        inner = _width(node.children)
        if node.open.startswith(r"\begin{"):
            env = node.open[7:-1]
            if env.endswith("matrix") or env in ("array", "cases", "aligned"):
                return _matrix_width(node.children) + (0.8 if env in ("pmatrix", "bmatrix") else 0)
            return inner
        delimiters = (0 if node.open == "{" else 0.45) + (0 if node.close in ("}", "") else 0.45)
        return inner + delimiters
    tok = node
    if tok.isspace():
        return 0.0
    if tok in BINARY:
        return BINARY[tok]
    if tok in RELATION:
        return RELATION[tok]
    if tok in SPACES:
        return SPACES[tok]
    if tok in ZERO:
        return 0.0
    if tok in (r"\sum", r"\prod", r"\int"):
        return 1.5
    if tok in (",", ";"):
        return 0.45
    if tok in (".", "'", "!", "|"):
        return 0.3
    if tok in ("(", ")", "[", "]"):
        return 0.39
    if tok.startswith("\\") and len(tok) > 2 and tok[1:].isalpha():
        return 0.6 if len(tok) <= 8 else 0.9  # \partial, \omega…; \operatorname-like words more
    if tok.isdigit():
        return 0.5
    if tok in WIDE:
        return WIDE[tok]
    return 0.55


# The widest capitals of math italic, in em (W₁₁ is a third wider than w₁₁).
WIDE = {"W": 0.94, "M": 0.97, "U": 0.68, "V": 0.58, "N": 0.8, "H": 0.83, "K": 0.85, "X": 0.83}


def _width(nodes: list) -> float:
    total = 0.0
    i = 0
    nodes = [n for n in nodes if not (isinstance(n, str) and n.isspace())]
    while i < len(nodes):
        node = nodes[i]
        i += 1
        if node in (r"\frac", r"\dfrac", r"\tfrac", r"\binom") and i + 1 < len(nodes) + 1:
            args = nodes[i:i + 2]
            i += 2
            scale = 0.75 if node == r"\tfrac" else 1.0
            total += scale * max((_node_width(a) for a in args), default=0) + 0.25
            continue
        if node in _ONE_ARG and i < len(nodes):
            arg = nodes[i]
            i += 1
            if node in (r"\mathrm", r"\operatorname", r"\text", r"\textbf", r"\mathit"):
                body = arg.children if isinstance(arg, Group) else [arg]
                total += _text_width(body) * _ONE_ARG[node] / 0.5 + (0.17 if node == r"\operatorname" else 0)
            else:
                total += _node_width(arg) + (0.6 if node in (r"\boxed", r"\sqrt") else 0)
            continue
        if node in (r"\sum", r"\prod") and i < len(nodes) and nodes[i] in ("_", "^"):
            limits = 0.0
            while i + 1 < len(nodes) + 1 and i < len(nodes) and nodes[i] in ("_", "^"):
                limits = max(limits, 0.7 * _node_width(nodes[i + 1]) if i + 1 < len(nodes) else 0)
                i += 2
            total += max(1.5, limits) + 0.17
            continue
        if node in ("^", "_") and i < len(nodes):
            script = 0.7 * _node_width(nodes[i])
            i += 1
            if i + 1 < len(nodes) and nodes[i] in ("^", "_"):  # x_{i}^{2}: the wider one counts
                script = max(script, 0.7 * _node_width(nodes[i + 1]))
                i += 2
            total += script
            continue
        total += _node_width(node)
    return total


def width(text) -> float:
    """An estimate of how wide TeX sets this display formula, in em."""
    return _width(parse(text) if isinstance(text, str) else text)
