"""Matrix formulas as people write them: Vᵀ·∂L/∂oₜ, diag(1 - hₜ²)·∂L/∂hₜ, x·δ_zᵀ.

``text`` prints an expression tree of the array engine (``derive.program.Op``)
in one of two styles, Unicode text or LaTeX; ``formula_rows`` gives the
rows of a derivation: each adjoint, with its one-term adjoints written out
(the layer's δ = diag(f′(z))·Wᵀ·δ′, a state's recursion), and each gradient
(a sum over t for what the cell reads).
"""

from ..derive.mathobj import Verbatim
from ..derive.program import Op, shift, step_key
from ..derive.sweep import Formula, FormulaKind, MatrixForm
from ..model.operations import OPERATIONS
from .render.latex_printer import function_name

_PRECEDENCE = {"add": 1, "neg": 1, "mul": 2, "matmul": 2, "div": 2, "iverson": 2}
# Printed as a call or a name, so never put in parentheses (inv has its ⁻¹, a row or an entry its brackets).
_ATOMS = ("leaf", "at", "adj", "delta", "num", *(op for op, r in OPERATIONS.items() if r.printed in (
    "function", "call", "atom") and op not in ("inv", "rows", "index", "place")))

TEXT = {
    "adj": "∂L/∂{}", "delta": "δ_{}", "T": "{}ᵀ", "dot": "·", "had": " ⊙ ", "ones": "𝟙",
    "open": "(", "close": ")", "diag": "diag({})", "pow": "{}^{}", "div": "{}/{}",
    "grad": "∇_{} L", "sum": "Σₜ ", "call": "{}({})", "rows": "({})[{}…{}]", "entry": "{}[{}]",
    "iverson": "[t = {}]·", "axis": "{}, {}", "abs": "|{}|", "cmp": "[{} {} {}]",
    "<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=",
}
LATEX = {
    "adj": r"\frac{{\partial L}}{{\partial {}}}", "delta": r"\delta_{{{}}}", "T": r"{}^{{\top}}",
    "dot": r" \cdot ", "had": r" \odot ", "ones": r"\mathbf{1}", "open": r"\left(", "close": r"\right)",
    "diag": r"\operatorname{{diag}}\left({}\right)", "pow": "{}^{{{}}}", "div": r"\frac{{{}}}{{{}}}",
    "grad": r"\nabla_{{{}}} L", "sum": r"\sum_{t} ", "call": r"{}\left({}\right)",
    "rows": r"\left[{}\right]_{{{}:{}}}", "entry": r"\left[{}\right]_{{{}}}", "iverson": r"[t = {}]\,",
    "axis": "{}, {}", "abs": r"\left|{}\right|", "cmp": r"\left[{} {} {}\right]",
    "<": "<", "<=": r"\leq", ">": ">", ">=": r"\geq", "==": "=",
}


def _named(m: Op, name_of) -> str:
    if m.op == "at":
        return name_of(f"{m.name}[{m.step}]")
    return name_of(step_key(m.name, m.step))


def text(m: Op, name_of, printer, style: dict = TEXT) -> str:
    """One line of text or LaTeX for an expression."""

    def go(child: Op) -> str:
        return text(child, name_of, printer, style)

    def wrap(child: Op, parent: str, right: bool = False) -> str:
        s = go(child)
        hadamard = child.op == "mul" and all(x.shape is not None for x in child.args)
        mixed = (parent == "matmul" and hadamard and right) or (
            parent == "mul" and child.op == "matmul" and child.shape is not None)
        if mixed or _PRECEDENCE.get(child.op, 3) < _PRECEDENCE.get(parent, 3) or (
            parent in ("T", "pow") and child.op not in _ATOMS
        ) or (child.op == "num" and str(child.extra).startswith("-") and parent != "add"):
            return f"{style['open']}{s}{style['close']}"
        return s

    op = m.op
    if op in _ATOM_OPS:
        return _atom(m, name_of, printer, style)
    if op in _OPERATORS:
        return _operator(m, go, wrap, style)
    if op in _FUNCTIONS:
        return _function(m, go, style)
    if op in _CALLS:
        return _call(m, go, wrap, style)
    if op in ("diag", "deriv"):
        d, symbols = m.extra  # the symbols stand for the inputs and the output
        pieces = {s: Verbatim(wrap(arg, "T")) for s, arg in zip(symbols, m.args)}
        inner = printer.doprint(d.xreplace(pieces))
        if op == "diag":
            return style["diag"].format(inner)
        return f"{style['open']}{inner}{style['close']}" if d.is_Add else inner
    raise KeyError(f"no printed form for {op!r}")


_ATOM_OPS = ("leaf", "at", "adj", "delta", "num", "ones")
_OPERATORS = ("T", "neg", "add", "matmul", "mul", "div", "pow", "powv", "iverson")
_FUNCTIONS = tuple(op for op, r in OPERATIONS.items() if r.printed == "function")


def _atom(m: Op, name_of, printer, style: dict) -> str:
    """A named value, an adjoint or δ, a number, 𝟙."""
    if m.op in ("leaf", "at"):
        return _named(m, name_of)
    if m.op in ("adj", "delta"):
        return style[m.op].format(_named(m, name_of))
    if m.op == "ones":
        return style["ones"]
    v = m.extra
    if float(v) == int(v):
        return str(int(v))
    if hasattr(v, "q") and style is LATEX:
        return rf"\frac{{{v.p}}}{{{v.q}}}"
    if hasattr(v, "is_Number") and not v.is_Number:  # sqrt(2): as the printer sets it
        return printer.doprint(v)
    return str(v)


def _operator(m: Op, go, wrap, style: dict) -> str:
    """Aᵀ, −a, a + b, A·B, a ⊙ b, a/b, aᵏ, [t = k]·a."""
    op, a = m.op, m.args
    if op == "T":
        return style["T"].format(wrap(a[0], "T"))
    if op == "neg":
        return "-" + wrap(a[0], "mul")
    if op == "add":
        if a[1].op == "neg":
            return f"{go(a[0])} - {wrap(a[1].args[0], 'mul')}"
        return f"{go(a[0])} + {go(a[1])}"
    if op == "matmul":
        return f"{wrap(a[0], 'matmul')}{style['dot']}{wrap(a[1], 'matmul', right=True)}"
    if op == "mul":
        sign = style["dot"] if a[0].shape is None or a[1].shape is None else style["had"]
        return f"{wrap(a[0], 'mul')}{sign}{wrap(a[1], 'mul', right=True)}"
    if op == "div":
        return style["div"].format(wrap(a[0], "mul"), wrap(a[1], "T"))
    if op == "iverson":
        return style["iverson"].format(m.extra) + wrap(a[0], "mul")
    if op == "pow" and style is TEXT and m.extra == 2:
        return wrap(a[0], "pow") + "²"
    return style["pow"].format(wrap(a[0], "pow"), m.extra if op == "pow" else go(a[1]))


def _function(m: Op, go, style: dict) -> str:
    """f(x), sum(X, 1), concat(a, b), a row or an entry, |x|, √x."""
    op, a = m.op, m.args
    if op == "rows":
        start, stop = m.extra
        return style["rows"].format(go(a[0]), start + 1, stop)
    if op == "index":
        return style["entry"].format(go(a[0]), ", ".join(str(i) for i in m.extra if i != "row"))
    if op == "place":
        return go(a[0])
    name = m.name if op == "fn" else op
    if name == "abs" and op == "fn":
        return style["abs"].format(go(a[0]))
    if name == "sqrt" and op == "fn" and style is LATEX:
        return rf"\sqrt{{{go(a[0])}}}"
    if op in ("fn", "concat"):  # its inputs, then its parameters (leaky_relu's slope)
        inner = ", ".join([go(x) for x in a] + [str(p) for p in (m.extra if op == "fn" else None) or ()])
    else:
        inner = go(a[0]) if m.extra is None else style["axis"].format(go(a[0]), m.extra)
    return style["call"].format(function_name(name) if style is LATEX else name, inner)


# Operations printed as a call (or a mark on their operand), by name; the
# arguments after the first are numbers kept in the operation (a window, a stride).
_CALLS = tuple(op for op, r in OPERATIONS.items() if r.printed == "call")
_SIZES = ("max_pool", "conv2d", "conv2d_input", "conv2d_weight", "permute")  # the window, stride, axes, printed


def _call(m: Op, go, wrap, style: dict) -> str:
    """inv, det, …, the operations of the courses, as books print them."""
    op, a = m.op, m.args
    if op == "inv":
        return wrap(a[0], "T") + ("⁻¹" if style is TEXT else "^{-1}")
    if op == "eye":
        return "I"
    if op in ("take", "part"):  # X[1:], X[0, :, 1:3]: the index as the spec writes it
        base = wrap(a[0], "T")
        if a[0].op in ("adj", "delta"):  # (∂L/∂P)[1:-1]: the slice is of the whole adjoint
            base = f"{style['open']}{base}{style['close']}"
        return base + (m.name if style is TEXT else m.name.replace("[", r"\left[").replace("]", r"\right]"))
    if op == "cmp":
        return style["cmp"].format(go(a[0]), style[m.extra], go(a[1]))
    record = OPERATIONS[op]
    name = (m.name if op in ("corr2d", "full_conv") and m.name else  # conv1d is corr2d of columns
            "flatten" if op == "reshape" and m.name == "flatten" else record.name or op)
    if style is LATEX:
        name = record.latex or rf"\operatorname{{{name.replace('_', chr(92) + '_')}}}"
    args = [go(x) for x in a]
    if op in _SIZES:
        args += [str(k) for k in m.extra]
    elif op == "pad":
        args.append(m.name)
    elif op == "reshape" and m.name != "flatten":
        args.append(m.name or ", ".join(map(str, m.extra)))
    return style["call"].format(name, ", ".join(args))


def _inline(m: Op, single: dict) -> Op:
    """Replace each adjoint that has a one-term formula by that formula."""
    key = (m.name, m.step is not None)
    if m.op == "adj" and key in single:
        return shift(single[key], m.step) if m.step else single[key]
    if not m.args or m.op in ("diag", "deriv"):
        return m
    return Op(m.op, tuple(_inline(a, single) for a in m.args), m.shape, m.name, m.step, m.extra)


def inlined(form: MatrixForm, f: Formula) -> Op:
    """A formula with one-term adjoints written out: the layer's
    δ = diag(f'(z))·Wᵀ·δ′, and for a state the textbook recursion."""
    single = {
        (g.name, g.step is not None): g.terms[0].expr
        for g in form.formulas
        if g.kind == FormulaKind.ADJ and len(g.terms) == 1 and g.terms[0].at is None and not g.terms[0].each_t
        and g.terms[0].expr.op != "add" and g is not f and not g.note
    }
    return _inline(f.expr, single)


def _with_fixed_steps(f: Formula) -> Op:
    """The adjoint at a generic t, with the terms that hold at one step only
    marked by an Iverson bracket: [t = 3]·(ŷ₃ − y)."""
    total = f.expr
    for term in f.fixed_steps:
        marked = Op("iverson", (term.expr,), term.expr.shape, extra=term.at)
        total = marked if total.op == "num" and total.extra == 0 else Op("add", (total, marked), total.shape)
    return total


def formula_rows(form: MatrixForm, name_of, printer, style: dict = TEXT) -> list[tuple[str, list[str], str]]:
    """(left side, [right sides], note) for every formula, as text or LaTeX."""
    rows = []
    for f in form.formulas:
        if f.kind == FormulaKind.GRAD:
            each = Op("num", extra=0)
            once = Op("num", extra=0)
            for term in f.terms:
                if term.each_t:
                    each = term.expr if each.op == "num" else Op("add", (each, term.expr), term.expr.shape)
                else:
                    once = term.expr if once.op == "num" else Op("add", (once, term.expr), term.expr.shape)
            parts = []
            if each.op != "num" or each.extra != 0:
                parts.append(style["sum"] + text(each, name_of, printer, style))
            if once.op != "num" or once.extra != 0 or not parts:
                parts.append(text(once, name_of, printer, style))
            rows.append((style["grad"].format(name_of(f.name)), [" + ".join(parts)], ""))
            continue
        lhs = text(Op(f.kind, name=f.name, step=f.step), name_of, printer, style)
        rhs = text(_with_fixed_steps(f), name_of, printer, style)
        sides = [rhs]
        if f.kind == FormulaKind.DELTA or f.name in form.states:
            written = text(inlined(form, f), name_of, printer, style)
            if written != rhs and not f.fixed_steps:
                sides.append(written)
        rows.append((lhs, sides, f.note))
    return rows
