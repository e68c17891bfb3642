"""Claims about formulas and structure in ``[expected]``: their keys and grammar.

A source's printed formula is written in the expression language of the
equations (the same whitelist: ``ast.parse`` and a walk of the tree, never
``eval`` or ``sympify``), with three more words that only claims know:

- ``adjoint(NAME)`` is ∂L/∂NAME, for a computed value or a parameter:
  ``adjoint(yhat)``, ``adjoint(h[t+1])``, ``adjoint(o[t])``;
- ``diag(v)`` is the diagonal matrix with the entries of the vector ``v``
  (a scalar stays itself);
- ``D(f)(z)`` is the derivative f′ of a one-argument function at ``z``: an
  undefined one from ``model.functions`` (f′ stays symbolic) or a built-in
  activation (``D(tanh)(a[t])`` is 1 − tanh²(a[t]));
- ``sum_t(EXPR)`` is the sum of EXPR over t = 1..steps (EXPR may use ``t``).

A call of a call (``D(f)(z)``) is never an expression of the equations, so
``D`` clashes with no name of a model; ``adjoint``, ``diag`` and ``sum_t``
cannot be functions of a model that makes formula claims.  A plain name
(``yhat``, ``h[t]``, ``W``, ``x``) is the value, as in the equations.

Keys (after ``expected.``):

- ``formula.grad.P``: the source's formula for ∂L/∂P, P a parameter;
- ``formula.adjoint.NAME``: ∂L/∂NAME; a recurrent value needs a step,
  ``h[t]`` (every step t where the formula's references exist) or ``h[3]``;
- ``through_time.P = true|false``: whether P's gradient needs the sum back
  through time.
"""

import ast
import re
from dataclasses import dataclass

from ..errors import SympropError
from .functions import REDUCTIONS, RULES, STACKING
from .kinds import ClaimKind
from .parse import LOSS, MAX_LITERAL, TIME, check_call, parse_syntax

ADJOINT = "adjoint"
DIAG = "diag"
SUM_T = "sum_t"
DERIVATIVE = "D"
CLAIM_WORDS = (ADJOINT, DIAG, SUM_T)

_KEY = re.compile(
    r"(?:formula\.(grad|adjoint)\.([A-Za-z][A-Za-z0-9_]*)(?:\[\s*(t|\d+)\s*\])?|through_time\.([A-Za-z][A-Za-z0-9_]*))\Z"
)


def is_structure_key(key: str) -> bool:
    """Whether an ``[expected]`` key is a formula or structure claim."""
    return key.startswith(("formula.", "through_time."))


@dataclass(frozen=True)
class ClaimSpec:
    """A claim about a formula or about structure, as the spec gives it."""

    key: str  # as written after "expected.": "formula.adjoint.h[t]"
    kind: ClaimKind  # GRAD, ADJOINT or THROUGH_TIME
    target: str  # the parameter or the value it is about: "w3", "h"
    step: int | None = None  # a fixed step (formula.adjoint.h[3])
    each_step: bool = False  # formula.adjoint.h[t]: every step t
    claimed: str | bool = ""  # the formula text exactly as given, or the boolean

    @property
    def is_formula(self) -> bool:
        return self.kind != ClaimKind.THROUGH_TIME

    def tree(self) -> ast.Expression:
        return parse_syntax(self.claimed)


@dataclass(frozen=True)
class ClaimContext:
    """What a claim may refer to: the model's names, functions and steps."""

    params: frozenset[str]
    assigned: frozenset[str]  # computed by the equations
    recurrent: frozenset[str]  # computed by the [t] lines
    sequences: frozenset[str]  # names indexed by time (recurrent values and inputs)
    mentioned: frozenset[str]  # every name the equations and loss read
    functions: frozenset[str]  # model.functions
    steps: int | None
    given: frozenset[str] = frozenset()  # the names of [values], some read by claims only

    @property
    def callable(self) -> set[str]:
        return set(RULES) | set(REDUCTIONS) | set(STACKING) | set(self.functions)

    @property
    def names(self) -> set[str]:
        return set(self.params) | set(self.assigned) | set(self.mentioned) | set(self.given) | {LOSS}


def _kind_of(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def read_claim(key: str, value, ctx: ClaimContext) -> ClaimSpec:
    """The claim under ``key``; a SympropError (without the key) when it is wrong."""
    m = _KEY.match(key)
    if not m:
        raise SympropError("is not a claim: use formula.grad.PARAM, formula.adjoint.NAME "
                           "(NAME[t] for a recurrent value) or through_time.PARAM")
    kind, name, index, param = m.groups()
    if param is not None:
        if param not in ctx.params:
            raise SympropError(f"no parameter named {param!r}")
        if ctx.steps is None:
            raise SympropError("the model is not recurrent (no model.steps): nothing goes back through time")
        if not isinstance(value, bool):
            raise SympropError(f"must be true or false, got {_kind_of(value)}")
        return ClaimSpec(key, ClaimKind.THROUGH_TIME, param, claimed=value)
    if not isinstance(value, str):
        raise SympropError(f"must be a formula as a string, got {_kind_of(value)}")
    step, each = None, False
    if kind == ClaimKind.GRAD:
        if name not in ctx.params:
            hint = f" (for a computed value write formula.adjoint.{name})" if name in ctx.assigned else ""
            raise SympropError(f"no parameter named {name!r}{hint}")
        if index is not None:
            raise SympropError("a gradient is about a whole parameter: no step or entry")
    else:
        if name in ctx.params:
            raise SympropError(f"{name!r} is a parameter: write formula.grad.{name}")
        if name not in ctx.assigned:
            raise SympropError(f"no computed value named {name!r}")
        if name in ctx.recurrent:
            if index is None:
                raise SympropError(f"{name!r} changes with time: write {name}[t] (every step) or {name}[3]")
            if index == TIME:
                each = True
            else:
                step = int(index)
                if not 1 <= step <= ctx.steps:
                    raise SympropError(f"{name}[{step}] is outside the steps 1..{ctx.steps}")
        elif index is not None:
            raise SympropError(f"{name!r} does not change with time: write formula.adjoint.{name}")
    for word in CLAIM_WORDS:
        if word in ctx.functions:
            raise SympropError(f"'{word}' is a function of the model and also a word of formula claims")
    _check_formula(value, ctx, time_ok=each)
    return ClaimSpec(key, ClaimKind(kind), name, step, each, value)


def _check_formula(text: str, ctx: ClaimContext, time_ok: bool) -> None:
    tree = parse_syntax(text)
    _Checker(ctx, time_ok).visit(tree.body, in_sum=False)


_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult)


def column(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" (column {col + 1})" if col is not None else ""


class _Checker:
    """Every construct of a claim, checked before anything is computed."""

    def __init__(self, ctx: ClaimContext, time_ok: bool):
        self.ctx = ctx
        self.time_ok = time_ok

    def visit(self, node: ast.AST, in_sum: bool) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise SympropError(f"constant {node.value!r:.30} is not allowed{column(node)}")
            if not abs(node.value) <= MAX_LITERAL:
                raise SympropError(f"a number is too large{column(node)}")
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _BINARY):
                raise SympropError(f"operator {type(node.op).__name__} is not allowed{column(node)}")
            self.visit(node.left, in_sum)
            self.visit(node.right, in_sum)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise SympropError(f"operator {type(node.op).__name__} is not allowed{column(node)}")
            self.visit(node.operand, in_sum)
        elif isinstance(node, ast.Attribute):
            if node.attr != "T":
                raise SympropError(f"attribute '.{node.attr}' is not allowed (only .T){column(node)}")
            self.visit(node.value, in_sum)
        elif isinstance(node, ast.Subscript):
            self.subscript(node, in_sum)
        elif isinstance(node, ast.Call):
            self.call(node, in_sum)
        else:
            raise SympropError(f"syntax '{type(node).__name__}' is not allowed{column(node)}")

    def name(self, node: ast.Name) -> None:
        name = node.id
        if name == TIME:
            raise SympropError(f"'t' is the time index and can only be used inside [ ]{column(node)}")
        if name in self.ctx.callable or name in CLAIM_WORDS:
            raise SympropError(f"'{name}' is a function; call it as {name}(...){column(node)}")
        if name not in self.ctx.names:
            raise SympropError(f"unknown name '{name}'{column(node)} (not a parameter, input or value of the model)")
        if name in self.ctx.sequences:
            raise SympropError(f"'{name}' changes with time; write {name}[t] or {name}[3]{column(node)}")

    def subscript(self, node: ast.Subscript, in_sum: bool) -> None:
        base = node.value
        if isinstance(base, ast.Name) and base.id in self.ctx.sequences:
            if base.id not in self.ctx.names:
                raise SympropError(f"unknown name '{base.id}'{column(base)}")
            self.step_index(node.slice, in_sum)
            return
        self.visit(base, in_sum)
        index = node.slice
        if not (isinstance(index, ast.Constant) and type(index.value) is int and 0 <= index.value <= 100_000):
            raise SympropError(f"an entry index must be a whole number{column(node)}")

    def step_index(self, node: ast.AST, in_sum: bool) -> None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return
        if isinstance(node, ast.Name) and node.id == TIME:
            return self.time(node, in_sum)
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub)
                and isinstance(node.left, ast.Name) and node.left.id == TIME
                and isinstance(node.right, ast.Constant) and type(node.right.value) is int
                and abs(node.right.value) <= 1_000):
            return self.time(node, in_sum)
        raise SympropError(f"a step must be a whole number, t, t-k or t+k{column(node)}")

    def time(self, node: ast.AST, in_sum: bool) -> None:
        if not (self.time_ok or in_sum):
            raise SympropError(f"'t' needs a claim about NAME[t] or a sum_t(...){column(node)}")

    def call(self, node: ast.Call, in_sum: bool) -> None:
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise SympropError(f"a call takes plain arguments, without names{column(node)}")
        func = node.func
        if isinstance(func, ast.Call):  # D(f)(z)
            return self.derivative(node, in_sum)
        if not isinstance(func, ast.Name):
            raise SympropError(f"only named functions can be called{column(node)}")
        name = func.id
        if name == ADJOINT:
            if len(node.args) != 1:
                raise SympropError(f"adjoint() takes one value, as adjoint(h[t]){column(node)}")
            return self.adjoint(node.args[0], in_sum)
        if name in (DIAG, SUM_T):
            return self.claim_word(node, in_sum)
        if name == DERIVATIVE:
            raise SympropError(f"write the derivative of f at z as D(f)(z){column(node)}")
        if name not in self.ctx.callable:
            known = ", ".join(sorted(self.ctx.callable | set(CLAIM_WORDS)))
            raise SympropError(f"unknown function '{name}'{column(node)} (known: {known}, and D(f)(z))")
        for a in self.arguments(node):
            self.visit(a, in_sum)

    def derivative(self, node: ast.Call, in_sum: bool) -> None:
        """D(f)(z): the derivative of a function of one argument, at z."""
        inner = node.func
        if not (isinstance(inner.func, ast.Name) and inner.func.id == DERIVATIVE):
            raise SympropError(f"only named functions and D(f)(z) can be called{column(node)}")
        if inner.keywords or len(inner.args) != 1 or not isinstance(inner.args[0], ast.Name):
            raise SympropError(f"write the derivative of f as D(f)(z){column(node)}")
        f = inner.args[0].id
        if f not in self.ctx.functions and (f not in RULES or RULES[f].inputs != 1):
            raise SympropError(f"D({f}): '{f}' is not a function of one argument{column(node)}")
        if len(node.args) != 1:
            raise SympropError(f"D({f})() takes exactly one argument{column(node)}")
        return self.visit(node.args[0], in_sum)

    def claim_word(self, node: ast.Call, in_sum: bool) -> None:
        """diag(v) and sum_t(...), the words of claims only."""
        name = node.func.id
        if len(node.args) != 1:
            raise SympropError(f"{name}() takes exactly one argument{column(node)}")
        if name == SUM_T:
            if self.ctx.steps is None:
                raise SympropError(f"sum_t() needs a recurrent model (model.steps){column(node)}")
            if in_sum:
                raise SympropError(f"sum_t() inside sum_t() is not allowed{column(node)}")
            in_sum = True
        return self.visit(node.args[0], in_sum)

    def arguments(self, node: ast.Call) -> list:
        """The arguments of a known function that are values (an axis or a slope is checked and left out)."""
        name, args = node.func.id, node.args
        if name in STACKING:
            if len(args) < 2:
                raise SympropError(f"{name}() stacks two or more column vectors or scalars{column(node)}")
        elif name in REDUCTIONS:
            if len(args) not in (1, 2):
                raise SympropError(f"{name}() takes one argument and an optional axis, 0 or 1{column(node)}")
            if len(args) == 2 and not (isinstance(args[1], ast.Constant) and type(args[1].value) is int
                                       and args[1].value in (0, 1)):
                raise SympropError(f"{name}: the axis must be 0 or 1{column(node)}")
            args = args[:1]
        elif name in RULES:  # the spec's own check: max(a, b), leaky_relu(x, slope)
            check_call(node)
            args = args[: RULES[name].inputs]
        elif len(args) != 1:
            raise SympropError(f"{name}() takes exactly one argument{column(node)}")
        return args

    def adjoint(self, node: ast.AST, in_sum: bool) -> None:
        base = node.value if isinstance(node, ast.Subscript) else node
        if not isinstance(base, ast.Name):
            raise SympropError(f"adjoint() takes the name of a value, as adjoint(h[t]){column(node)}")
        name = base.id
        if name not in self.ctx.assigned and name not in self.ctx.params and name != LOSS:
            raise SympropError(f"adjoint({name}): no computed value or parameter named {name!r}{column(node)}")
        if name in self.ctx.recurrent:
            if not isinstance(node, ast.Subscript):
                raise SympropError(f"adjoint({name}): '{name}' changes with time; write adjoint({name}[t])"
                                   f"{column(node)}")
            self.step_index(node.slice, in_sum)
        elif isinstance(node, ast.Subscript):
            raise SympropError(f"adjoint() takes a whole value: write adjoint({name}){column(node)}")
