"""Generated code for the pass: the program as a standalone Python module.

``generate(problem, target)`` writes straight-line source for the forward
pass (one library call per operation, a recurrent cell as a loop over t
writing into arrays made beforehand) and, for NumPy, the backward pass: the
same vector-Jacobian rules the derivation prints (``derive/rules.py``) run
with ``Source`` as the algebra, whose values are pieces of code rather than
numbers, as JAX traces a function.  A piece is written out when a pushed
adjoint needs it, so what no gradient uses is never computed (∂L/∂X of an
input), and a piece used once is written inline.  PyTorch's and JAX's
modules differentiate their forward pass with their own autograd.

Every name in the module is generated: the spec's names (checked to be
plain identifiers, else replaced) are used as variable names, the rest are
v1, v2 …; numbers are ``repr`` of floats; the spec's text reaches the
module only as the escaped title of its docstring.
"""

import builtins
import keyword
import re

import numpy as np

from ..derive.ops import broadcast, walk
from ..derive.program import Op, Program, program_of
from ..derive.rules import vjp
from ..errors import SympropError
from ..model.functions import RULES
from ..model.spec import LOSS
from .code_forms import (
    ATOM,
    POWER,
    PRODUCT,
    SUM,
    TARGETS,
    UNARY,
    Expr,
    binary,
    call,
    derivative,
    form,
    number,
    plus,
    rule_partials,
    squashed,
    unbroadcast,
)
from .code_helpers import helpers_for, needs_math

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {
    "np", "torch", "jax", "jnp", "lax", "math", "values", "forward", "backward", "t", "T", "VALUES", "PARAMS",
    "main", "params", "out", "grads", "loss_of", "value_and_grad", "given", "carry", "inputs", "rest", "loss"}
INLINE = 72  # a piece longer than this gets a name of its own


class Names:
    """Identifiers for the module: each asked-for base once, then base_2, base_3 …; v1, v2 … for the rest."""

    def __init__(self):
        self.taken: set[str] = set(_RESERVED)
        self.count = 0

    def new(self, base: str | None = None) -> str:
        if base is None:
            while True:
                self.count += 1
                if f"v{self.count}" not in self.taken:
                    base = f"v{self.count}"
                    break
        base = base.replace("@", "_")
        if not _IDENTIFIER.match(base) or base.startswith("_"):
            base = "q"
        name, k = base, 1
        while name in self.taken or name.startswith("v") and name[1:].isdigit() and base != name:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


# The algebra of code -----------------------------------------------------------------


class Code:
    """A piece of the backward pass, not yet written: ``make(*pieces of args)`` gives its text."""

    __slots__ = ("make", "args", "shape", "const", "scaled", "spread")

    def __init__(self, make, args=(), shape=None, const=None):
        self.make, self.args, self.shape, self.const = make, tuple(args), shape, const
        self.scaled = None  # (c, x) for the piece c·x, so that numbers meet and fold
        self.spread = None  # c for the piece c spread over an array (c·𝟙)


def ref(text: str, shape, prec: int = ATOM) -> Code:
    expr = Expr(text, prec)
    return Code(lambda: expr, (), shape)


def const(v) -> Code:
    v = float(v)
    return Code(lambda: number(v), (), None, v)


class Source:
    """The vector-Jacobian rules' algebra whose values are code (NumPy's)."""

    def __init__(self, relu_at_zero: float):
        self.T_ = TARGETS["numpy"]
        self.relu_at_zero = relu_at_zero

    num = staticmethod(const)

    @staticmethod
    def is_zero(g) -> bool:
        return g.const == 0

    def _op(self, make, args, shape) -> Code:
        return Code(make, args, shape)

    def neg(self, a):
        if a.const is not None:
            return const(-a.const)
        return self._op(lambda x: Expr(f"-{x.at(UNARY)}", UNARY), [a], a.shape)

    def add(self, a, b):
        if a.const == 0:
            return b
        if b.const == 0:
            return a
        return self._op(plus, [a, b], broadcast(a.shape, b.shape))

    def mul(self, a, b):
        if a.const == 0 or b.const == 0:
            return const(0)
        if a.const == 1:
            return b
        if b.const == 1:
            return a
        if a.const is not None and b.const is not None:
            return const(a.const * b.const)
        if b.const is not None:  # numbers first: 2.0 * x
            a, b = b, a
        if a.const == -1:
            return self.neg(b)
        if a.spread is not None and a.shape == b.shape:  # (c·𝟙) ⊙ B = c·B
            return self.mul(const(a.spread), b)
        if a.const is not None and b.scaled is not None:  # c·(d·x) = (cd)·x
            return self.mul(const(a.const * b.scaled[0]), b.scaled[1])
        out = self._op(lambda x, y: binary(x, "*", y, PRODUCT), [a, b], broadcast(a.shape, b.shape))
        if a.const is not None:
            out.scaled = (a.const, b)
        return out

    def div(self, a, b):
        if a.const == 0:
            return const(0)
        if a.const is not None and b.const is not None:
            return const(a.const / b.const)
        return self._op(lambda x, y: binary(x, "/", y, PRODUCT), [a, b], broadcast(a.shape, b.shape))

    def power(self, a, k):
        if k == 1:
            return a
        exponent = number(k) if isinstance(k, float) else Expr(repr(int(k)), ATOM if k >= 0 else UNARY)
        return self._op(lambda x: binary(x, "**", exponent, POWER), [a], a.shape)

    def powv(self, a, b):
        return self._op(lambda x, y: binary(x, "**", y, POWER), [a, b], broadcast(a.shape, b.shape))

    def T(self, a):
        if a.shape is None:
            return a
        return self._op(lambda x: Expr(f"{x.at(ATOM)}.T"), [a], tuple(reversed(a.shape)))

    def matmul(self, a, b):
        if a.shape is None or b.shape is None:
            return self.mul(a, b)
        shape = None if (a.shape[0], b.shape[1]) == (1, 1) else (a.shape[0], b.shape[1])
        if a.shape[1] == 1 and shape is not None:  # an outer product: entry by entry, no BLAS call
            return self._op(lambda x, y: binary(x, "*", y, PRODUCT), [a, b], shape)
        return self._op(lambda x, y: (squashed if shape is None else _same)(binary(x, "@", y, PRODUCT)),
                        [a, b], shape)

    def fn(self, name, *args):
        return self._op(lambda *xs: self.T_.fn(name, list(xs), ()), args, args[0].shape)

    def unbroadcast(self, g, shape):
        if g.shape == shape or g.const is not None and shape is None:
            return g
        if g.shape is None:  # a number spread over the entries
            return self._op(lambda x: binary(x, "*", call("np.ones", repr(tuple(shape))), PRODUCT), [g], shape)
        source = g.shape
        return self._op(lambda x: unbroadcast(self.T_, x, source, shape), [g], shape)

    def activation(self, e, xs, y, g):
        partials, symbols = rule_partials(e.name, e.extra or ())
        out = []
        for d in partials:
            if getattr(d, "is_zero", False) is True:
                out.append(const(0))
                continue
            used = [k for k, s in enumerate(symbols) if s in d.free_symbols]  # f′ written with y reads no x
            local = self._op(lambda *v, d=d, used=used: derivative(d, [symbols[k] for k in used], list(v),
                                                                   self.relu_at_zero),
                             [[*xs, y][k] for k in used], e.shape)
            out.append(self.mul(local, g))
        return out

    def softmax_back(self, z, g, axis):
        inner = (lambda p: call("np.sum", p)) if axis is None else (
            lambda p: call("np.sum", p, f"axis={axis!r}, keepdims=True"))
        return self._op(lambda s, x: binary(s, "*", Expr(
            f"({binary(x, '-', inner(binary(s, '*', x, PRODUCT)), SUM).text})"), PRODUCT), [z, g], z.shape)

    def log_softmax_back(self, out, g, axis):
        total = (lambda x: call("np.sum", x)) if axis is None else (
            lambda x: call("np.sum", x, f"axis={axis!r}, keepdims=True"))
        return self._op(lambda o, x: binary(x, "-", binary(call("np.exp", o), "*", total(x), PRODUCT), SUM),
                        [out, g], g.shape)

    def spread(self, g, shape):
        if shape is None or g.const == 0:
            return g if shape is None else const(0)
        out = self._op(lambda x: call("np.broadcast_to", x, repr(tuple(shape))), [g], shape)
        out.spread = g.const
        return out

    def unpad(self, g, margins, shape):
        (p, q), (rows, cols) = margins, shape or (1, 1)
        return self._op(lambda x: Expr(f"{x.at(ATOM)}[{p}:{p + rows}, {q}:{q + cols}]"), [g], shape)

    def op(self, name, args, shape, extra=None, label=""):
        e = Op(name, (), shape, label, None, extra)
        return self._op(lambda *xs: form(self.T_, e, list(xs)), args, shape)


def _same(x):
    return x


class Block:
    """Statements at one indentation, and the writing of pieces into them."""

    def __init__(self, names: Names, indent: str):
        self.names, self.indent, self.lines = names, indent, []

    def say(self, text: str) -> None:
        self.lines.append(self.indent + text)

    def write(self, roots: list[Code]) -> list[Expr]:
        """The pieces' texts: a piece used twice, or too long to read inline, gets a name."""
        uses: dict[int, int] = {}
        stack = list(roots)
        while stack:
            c = stack.pop()
            uses[id(c)] = uses.get(id(c), 0) + 1
            if uses[id(c)] == 1:
                stack.extend(c.args)
        done: dict[int, Expr] = {}

        def text(c: Code) -> Expr:
            if id(c) in done:
                return done[id(c)]
            expr = c.make(*(text(a) for a in c.args))
            if (uses[id(c)] > 1 or len(expr.text) > INLINE) and expr.prec < ATOM or len(expr.text) > INLINE:
                name = self.names.new()
                self.say(f"{name} = {expr.text}")
                expr = Expr(name)
            done[id(c)] = expr
            return expr

        return [text(r) for r in roots]


# The module ------------------------------------------------------------------------------


def generate(problem, target: str = "numpy") -> str:
    """The module's source for the problem (a validated spec) and the target: numpy, torch or jax."""
    if target not in TARGETS:
        raise SympropError(f"unknown codegen target {target!r:.40} (numpy, torch or jax)")
    program = program_of(problem)
    for line in program.lines():
        for e in walk(line.expr):
            if e.op == "fn" and e.name not in RULES:
                raise SympropError(f"the activation '{e.name}' is left undefined (model.functions), so there is "
                                   "no code to write for it", where=problem.origin)
    return _Module(program, target).text()


def _docstring(text: str) -> str:
    """User text made safe inside a triple-quoted string: backslashes, quotes and controls escaped."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif not ch.isprintable() or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


class _Module:
    """One module: the names, the forward lines, the backward lines."""

    def __init__(self, program: Program, target: str):
        self.program, self.target, self.T_ = program, target, TARGETS[target]
        self.problem = program.problem
        self.names = Names()
        self.var: dict[str, str] = {}
        for key in [leaf.key for leaf in program.leaves.values() if "[" not in leaf.key]:
            self.var[key] = self.names.new(key)
        for line in program.lines():
            if line.key not in self.var:
                self.var[line.key] = self.names.new(line.key if line.key != LOSS or not program.per_step_loss
                                                    else "L_step")
        if program.per_step_loss:
            self.var["total"] = self.names.new(LOSS)
        self.cell = program.cell_names()
        self.roots = {id(line.expr): line.key for line in program.lines() if line.expr is not None}
        self.needed: dict[int, str] = {}  # forward pieces the backward pass reads, by the Op's id
        self.scan_refs: dict | None = None  # (name, step) -> its name inside a lax.scan step

    # References ---------------------------------------------------------------------

    def loss_var(self) -> str:
        return self.var["total"] if self.program.per_step_loss else self.var[LOSS]

    def leaf_text(self, e: Op) -> str:
        """A leaf or a fixed step as the module names it: W, h[t - 1], x[t], h[3]."""
        if e.op == "at":
            return f"{self.var[e.name]}[{e.step}]"
        name = self.var[e.name]
        if e.step is None:
            return name
        if self.scan_refs is not None:  # inside a lax.scan step: its own names
            return self.scan_refs[(e.name, e.step)]
        return f"{name}[t]" if e.step == 0 else f"{name}[t - {-e.step}]"

    # Forward --------------------------------------------------------------------------

    def expression(self, e: Op, block: Block, in_cell: bool) -> Expr:
        if e.op in ("leaf", "at"):
            return Expr(self.leaf_text(e))
        if e.op == "num":
            return number(e.extra)
        expr = form(self.T_, e, [self.expression(a, block, in_cell) for a in e.args])
        if id(e) in self.needed and id(e) not in self.roots:
            name = self.needed[id(e)]
            block.say(f"{name}[t] = {expr.text}" if in_cell else f"{name} = {expr.text}")
            return Expr(f"{name}[t]" if in_cell else name)
        if len(expr.text) > INLINE and id(e) not in self.roots:
            name = self.names.new()
            block.say(f"{name} = {expr.text}")
            return Expr(name)
        return expr

    def leaves(self, block: Block) -> None:
        T_ = self.T_
        for key, leaf in self.program.leaves.items():
            if leaf.kind not in ("param", "input", "sequence") or "[" in key:
                continue
            shape = tuple(leaf.shape or ())
            if leaf.kind == "sequence":
                block.say(f"{self.var[key]} = _array(values[{key!r}][:T + 1], {_by_step(shape)})  "
                          f"# {self.var[key]}[t], t = 0..T")
            elif not shape and T_.name == "numpy":
                block.say(f"{self.var[key]} = _number(values[{key!r}])")
            else:
                block.say(f"{self.var[key]} = _array(values[{key!r}], {shape!r})")

    def initial(self, name: str) -> str:
        """h[0]: the spec's initial state, a parameter, a value given as "h[0]", or zeros."""
        program, T_ = self.program, self.T_
        key = f"{name}[0]"
        if key in program.aliases:
            return self.var[program.aliases[key]]
        leaf = program.leaves.get(key)
        shape = tuple(program.shape_of(name) or ()) if name != LOSS else ()
        if leaf is not None and leaf.kind == "input":
            return f"_array(values[{key!r}], {shape!r})"
        value = np.zeros(shape)
        if leaf is not None and leaf.kind == "initial":
            value = np.asarray(self.problem.initial[name], dtype=float).reshape(shape)
        if T_.name == "numpy" and not shape:
            return repr(float(value))
        return T_.zeros(shape) if not np.any(value) else T_.array(repr(value.tolist()))

    def forward(self, block: Block) -> None:
        program, T_ = self.program, self.T_
        for line in program.before:
            block.say(f"{self.var[line.key]} = {self.expression(line.expr, block, False).text}")
        if program.recurrent:
            (self.scan if T_.name == "jax" and self.scannable() else self.cell_loop)(block)
        for line in program.after:
            block.say(f"{self.var[line.key]} = {self.expression(line.expr, block, False).text}")
        if program.per_step_loss:
            total = {"numpy": f"np.sum({self.var[LOSS]}[1:])", "torch": f"{self.var[LOSS]}[1:].sum()",
                     "jax": f"jnp.sum({self.var[LOSS]}[1:])"}[T_.name]
            if self.problem.reduce == "mean":
                total += " / T"
            block.say(f"{self.var['total']} = {total}")
        else:
            block.say(f"{self.var[LOSS]} = {self.expression(program.loss.expr, block, False).text}")

    def cell_loop(self, block: Block) -> None:
        program, T_ = self.program, self.T_
        stored = [(line.key, line.shape) for line in program.cell]
        stored += [(name, shape) for name, shape in self.stored_pieces()]
        for key, shape in stored:
            name = self.var.get(key, key)
            if T_.name == "numpy":
                block.say(f"{name} = np.zeros({_by_step(shape)})")
            else:
                block.say(f"{name} = [None] * (T + 1)")
            if key in self.var:
                block.say(f"{name}[0] = {self.initial(key)}")
        block.say("for t in range(1, T + 1):")
        body = Block(self.names, block.indent + "    ")
        for line in program.cell:
            body.say(f"{self.var[line.key]}[t] = {self.expression(line.expr, body, True).text}")
        block.lines += body.lines
        if T_.name != "numpy":
            stack = "torch.stack" if T_.name == "torch" else "jnp.stack"
            for line in program.cell:
                block.say(f"{self.var[line.key]} = {stack}({self.var[line.key]})")

    def scannable(self) -> bool:
        """A cell lax.scan can run: it reads its names at t and t - 1 only."""
        return all(e.op == "leaf" and e.step in (None, 0, -1) for line in self.program.cell
                   for e in walk(line.expr) if e.op in ("leaf", "at"))

    def scan(self, block: Block) -> None:
        """The cell as a step function of lax.scan: the states at t - 1 carried, the sequences at t scanned."""
        program, names = self.program, self.names
        reads = {(e.name, e.step) for line in program.cell for e in walk(line.expr)
                 if e.op == "leaf" and e.step is not None and e.name not in self.cell}
        states = sorted(program.states)
        refs = {(s, -1): names.new(f"{self.var[s]}_prev") for s in states}
        refs |= {(line.key, 0): names.new(f"{self.var[line.key]}_t") for line in program.cell}
        refs |= {read: names.new(f"{self.var[read[0]]}_{'t' if read[1] == 0 else 'prev'}") for read in sorted(reads)}
        step = names.new("step")
        block.say(f"def {step}(carry, inputs):")
        body = Block(names, block.indent + "    ")
        body.say(f"{_tuple(refs[(s, -1)] for s in states)} = carry  # the states at t - 1")
        body.say(f"{_tuple(refs[r] for r in sorted(reads))} = inputs  # the sequences at t")
        self.scan_refs = refs
        for line in program.cell:
            body.say(f"{refs[(line.key, 0)]} = {self.expression(line.expr, body, True).text}")
        self.scan_refs = None
        body.say(f"return {_tuple(refs[(s, 0)] for s in states)}, {_tuple(refs[(line.key, 0)] for line in program.cell)}")
        block.lines += body.lines
        scanned = _tuple(f"{self.var[x]}[{'1:' if k == 0 else ':-1'}]" for x, k in sorted(reads))
        outputs = names.new("outputs")
        block.say(f"_, {outputs} = lax.scan({step}, {_tuple(self.initial(s) for s in states)}, {scanned}, length=T)")
        for k, line in enumerate(program.cell):  # indexed by t, as the spec reads them: h[0] first
            first = self.initial(line.key) if line.key in program.states else self.T_.zeros(line.shape or ())
            block.say(f"{self.var[line.key]} = jnp.concatenate([jnp.expand_dims({first}, 0), {outputs}[{k}]])")

    def stored_pieces(self):
        """The cell's pieces the backward pass reads, each kept for every step."""
        shapes = {id(e): e.shape for line in self.program.cell for e in walk(line.expr)}
        return [(name, shapes[i]) for i, name in self.needed.items() if i in shapes and i not in self.roots]

    def result(self, block: Block) -> None:
        items = [f"{key!r}: {self.var[key]}" for key in [line.key for line in self.program.before]
                 + [line.key for line in self.program.cell if line.key != LOSS]
                 + [line.key for line in self.program.after]]
        items.append(f"{LOSS!r}: {self.loss_var()}")
        block.say("return {" + ", ".join(items) + "}")

    # The module ---------------------------------------------------------------------------

    def text(self) -> str:
        backward = _Backward(self).lines() if self.target == "numpy" else None
        forward = Block(self.names, "    ")
        self.leaves(forward)
        self.forward(forward)
        body = "\n".join(forward.lines)
        parts = [self.head(), self.forward_function(body)]
        if backward is not None:
            parts.append(self.backward_function(body, backward))
        else:
            parts.append(self.autograd_function())
        parts.append(self.main())
        code = "\n\n".join(parts)
        helpers = helpers_for(self.target, code)
        head, rest = code.split("\n\n\n", 1)
        imports = ("import math\n\n" if needs_math(helpers) else "") + self.T_.header
        return f"{head}\n\n{imports}\n\n{self.constants()}\n\n{helpers}\n{rest}\n"

    def head(self) -> str:
        problem, T_ = self.problem, self.T_
        title = _docstring(problem.title_in(problem.lang) if hasattr(problem, "title_in") else problem.title)
        grads = "the loss and the gradient of every parameter" if T_.name == "numpy" else \
            f"the loss and the gradient of every parameter, by {'torch.autograd' if T_.name == 'torch' else 'jax.grad'}"
        return (f'"""{title}\n\nGenerated by symprop codegen (target: {T_.name}) from the spec\'s equations;\n'
                f"it imports only {'numpy' if T_.name == 'numpy' else T_.name}.\n\n"
                "    forward(values)   every node's value and the loss \"L\" (a recurrent value is an\n"
                "                      array indexed by t = 0..T)\n"
                f"    backward(values)  {grads}\n\n"
                "values is a dict by the spec's names, as its [values] table gives them (VALUES below,\n"
                "when the spec has them); `python THIS_FILE.py` prints the loss and the gradients.\n"
                '"""\n\n')

    def constants(self) -> str:
        program = self.program
        lines = [f"PARAMS = {[p.key for p in program.params]!r}"]
        if program.recurrent:
            lines.insert(0, f"T = {int(program.steps)}  # time steps")
        values = _values_literal(self.problem.values)
        lines.append(f"VALUES = {values}" if values else "VALUES = None  # the spec gives no values here")
        return "\n".join(lines)

    def forward_function(self, body: str) -> str:
        return ("def forward(values):\n    \"\"\"Every node's value and the loss, in order.\"\"\"\n"
                + body + "\n" + self.result_text())

    def result_text(self) -> str:
        block = Block(self.names, "    ")
        self.result(block)
        return "\n".join(block.lines)

    def backward_function(self, body: str, backward: list[str]) -> str:
        return ("def backward(values):\n    \"\"\"The loss and the gradient of every parameter: the forward pass, "
                "then the\n    backward pass from the loss, each node's adjoint dL/dnode.\"\"\"\n"
                + body + "\n" + "\n".join(backward))

    def autograd_function(self) -> str:
        if self.target == "torch":
            return ('def backward(values):\n    """The loss and the gradient of every parameter, by torch.autograd."""\n'
                    "    params = {p: _array(values[p], torch.as_tensor(values[p]).shape).clone().requires_grad_(True)"
                    " for p in PARAMS}\n"
                    f"    loss = forward({{**values, **params}})[{LOSS!r}]\n"
                    "    grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)\n"
                    f"    return {{{LOSS!r}: loss.detach(), **{{p: torch.zeros_like(params[p]) if g is None else "
                    "_like(g, values[p]) for p, g in zip(PARAMS, grads)}}")
        return ("def loss_of(params, values):\n"
                f"    return forward({{**values, **params}})[{LOSS!r}]\n\n\n"
                "value_and_grad = jax.jit(jax.value_and_grad(loss_of))\n\n\n"
                'def backward(values):\n    """The loss and the gradient of every parameter, by jax.grad (jitted)."""\n'
                "    params = {p: jnp.asarray(values[p], dtype=jnp.float64) for p in PARAMS}\n"
                "    rest = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in values.items() if k not in params}\n"
                "    loss, grads = value_and_grad(params, rest)\n"
                f"    return {{{LOSS!r}: loss, **{{p: _like(grads[p], values[p]) for p in PARAMS}}}}")

    def main(self) -> str:
        return ('if __name__ == "__main__":\n'
                "    if VALUES is None:\n"
                '        raise SystemExit("the spec gives no values: call backward(values) with your own")\n'
                "    for name, value in backward(VALUES).items():\n"
                '        print(name, "=", value.tolist() if hasattr(value, "tolist") else value)')


def _by_step(shape) -> str:
    """The shape of a value kept for every step: (T + 1, 3, 1)."""
    return "(T + 1" + "".join(f", {int(n)}" for n in shape or ()) + (")" if shape else ",)")


def _tuple(items) -> str:
    """A tuple's source: (), (a,), (a, b)."""
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _values_literal(values: dict, cap: int = 20_000) -> str | None:
    """The spec's values as a Python literal of floats and lists (None past ``cap`` numbers)."""
    out, count = {}, 0
    for key, value in values.items():
        if isinstance(value, list):
            items = [np.asarray(v, dtype=float).tolist() for v in value]
            count += sum(np.size(v) for v in value)
        else:
            items = np.asarray(value, dtype=float)
            count += items.size
            items = items.tolist()
        out[str(key)] = items
    if not out or count > cap or not all(_IDENTIFIER.match(k) for k in out):
        return None
    return repr(out)


class _Backward:
    """The NumPy backward pass: the rules run with the algebra of code, from the loss back."""

    def __init__(self, module: _Module):
        self.m = module
        self.program = module.program
        self.A = Source(self.program.problem.conventions.relu_grad_at_zero)
        self.live = self.dependents()
        self.from_cell = self.read_in_cell()
        self.steps = self.state_names()
        self.d: dict[str, str] = {}
        self.assigned: set[str] = set()

    def dependents(self) -> set[str]:
        """Keys whose value depends on a parameter (only their adjoints are needed)."""
        program = self.program
        live = {p.key for p in program.params} | {f"{s}[0]" for s, p in [(k[:-3], v) for k, v in
                                                                             program.aliases.items()]}
        for _ in range(2):  # the cell twice: a state read at t - 1
            for line in program.lines():
                if line.expr is not None and any(self.key_of(e) in live for e in walk(line.expr)
                                                 if e.op in ("leaf", "at")):
                    live.add(line.key)
        return live

    def key_of(self, e: Op) -> str:
        """The key a reference is an adjoint slot of: the name (a cell name at any step) or the parameter."""
        if e.op == "at" and e.step == 0 or e.op == "leaf" and e.step is not None and e.name in self.program.states:
            alias = self.program.aliases.get(f"{e.name}[0]")
            if alias and e.op == "at":
                return alias
        return e.name

    def read_in_cell(self) -> set[str]:
        return {e.name for line in self.program.cell for e in walk(line.expr) if e.op == "leaf" and e.step is None}

    def state_names(self) -> set[str]:
        """Cell names whose adjoint is kept for every step: read at another step, or at a fixed one."""
        program = self.program
        out = {e.name for line in program.lines() if line.expr is not None for e in walk(line.expr)
               if e.op == "at" and e.name in self.m.cell}
        return out | {e.name for line in program.cell for e in walk(line.expr)
                      if e.op == "leaf" and e.step not in (None, 0)}

    # Slots --------------------------------------------------------------------------

    def dvar(self, key: str) -> str:
        if key not in self.d:
            self.d[key] = self.m.names.new("d" + self.m.var[key])
        return self.d[key]

    def slot(self, e: Op) -> tuple[str, str] | None:
        """(the adjoint's text, how it accumulates: steps, acc or local), or None when not needed."""
        name = e.name
        if name not in self.live:
            return None
        if name in self.m.cell:
            if name in self.steps:
                index = e.step if e.op == "at" else ("t" if e.step == 0 else f"t - {-e.step}")
                return f"{self.dvar(name)}[{index}]", "steps"
            return self.dvar(name), "local"
        return self.dvar(name), "acc" if name in self.from_cell else "local"

    def push(self, block: Block, pushes: list) -> None:
        """Each (slot, piece) added to its adjoint; a piece two adjoints share is written once."""
        texts = block.write([g for _, g in pushes])
        for (target, kind), text in zip((slot for slot, _ in pushes), texts):
            if kind in ("steps", "acc"):
                block.say(f"{target} += {text.text}")
            elif target in self.assigned:
                block.say(f"{target} = {target} + {text.at(SUM + 1)}")
            else:
                block.say(f"{target} = {text.text}")
                self.assigned.add(target)

    # The pass ------------------------------------------------------------------------

    def forward_piece(self, e: Op, in_cell: bool) -> Code:
        """The forward value of a node, for a rule to read: a name the forward pass then keeps."""
        if e.op in ("leaf", "at"):
            return ref(self.m.leaf_text(e), e.shape)
        if e.op == "num":
            return const(e.extra)
        if id(e) in self.m.roots:
            key = self.m.roots[id(e)]
            return ref(f"{self.m.var[key]}[t]" if in_cell else self.m.var[key], e.shape)
        def make():  # named when a rule's text reads it: the forward pass keeps it
            if id(e) not in self.m.needed:
                self.m.needed[id(e)] = self.m.names.new()
            name = self.m.needed[id(e)]
            return Expr(f"{name}[t]" if in_cell else name)

        return Code(make, (), e.shape)

    def back(self, block: Block, root: Op, g: Code, in_cell: bool) -> None:
        stack, pushes = [(root, g)], []
        while stack:
            e, g = stack.pop()
            if e.op in ("leaf", "at"):
                slot = self.slot(e)
                if slot is not None:
                    pushes.append((slot, self.A.unbroadcast(g, e.shape)))
                continue
            if e.op == "num":
                continue
            xs = [self.forward_piece(a, in_cell) for a in e.args]
            for a, ga in zip(e.args, vjp(self.A, e, g, xs, self.forward_piece(e, in_cell))):
                if not self.A.is_zero(ga) and self.reaches(a):
                    stack.append((a, ga))
        self.push(block, pushes)

    def reaches(self, e: Op) -> bool:
        return any(self.key_of(x) in self.live for x in walk(e) if x.op in ("leaf", "at"))

    def line(self, block: Block, key: str, expr: Op, in_cell: bool) -> None:
        if key not in self.live:
            return
        slot = self.slot(Op("leaf", name=key, step=0 if in_cell else None))
        if slot[1] == "local" and slot[0] not in self.assigned:
            return  # nothing after it reads it
        block.say(f"# dL/d{self.m.var[key]}" + ("[t]" if in_cell else ""))
        self.back(block, expr, ref(slot[0], expr.shape), in_cell)

    def lines(self) -> list[str]:
        program, m = self.program, self.m
        block = Block(m.names, "    ")
        block.say("# The backward pass: each node's adjoint dL/dnode, from the loss back")
        accumulators = [p.key for p in program.params if p.key in self.from_cell]
        accumulators += [line.key for line in program.before if line.key in self.from_cell and line.key in self.live]
        for key in accumulators:
            shape = program.shape_of(key) if key not in program.leaves else program.leaves[key].shape
            block.say(f"{self.dvar(key)} = {m.T_.zeros(shape) if shape else '0.0'}")
            self.assigned.add(self.dvar(key))
        for name in sorted(self.steps & self.live):
            block.say(f"{self.dvar(name)} = np.zeros({_by_step(program.shape_of(name))})")
        if program.loss.expr is not None:
            self.back(block, program.loss.expr, const(1.0), False)
        for line in reversed(program.after):
            self.line(block, line.key, line.expr, False)
        if program.recurrent:
            self.cell(block)
        for line in reversed(program.before):
            self.line(block, line.key, line.expr, False)
        gradients = []
        for p in program.params:
            d = self.d.get(p.key)
            if d is None or d not in self.assigned:
                d = "0.0"
            gradients.append(f"{p.key!r}: _like({d}, values[{p.key!r}])")
        block.say(f"return {{{LOSS!r}: {m.loss_var()}, " + ", ".join(gradients) + "}")
        return block.lines

    def cell(self, block: Block) -> None:
        program = self.program
        block.say("for t in range(T, 0, -1):")
        body = Block(self.m.names, block.indent + "    ")
        weight = 1.0 / program.steps if program.problem.reduce == "mean" else 1.0
        for line in reversed(program.cell):
            if line.key == LOSS:
                body.say("# the loss at step t")
                self.back(body, line.expr, const(weight), True)
            else:
                self.line(body, line.key, line.expr, True)
        block.lines += body.lines
        for state, param in ((k[:-3], v) for k, v in program.aliases.items()):
            if state in self.steps and param in self.live:
                self.push(block, [((self.dvar(param), "acc" if param in self.from_cell else "local"),
                                    ref(f"{self.dvar(state)}[0]", program.shape_of(state)))])

