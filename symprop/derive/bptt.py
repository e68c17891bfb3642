"""Backpropagation through time, stated for a generic step t.

Everything here is read off the recurrent cell the engine derived once:

- the recursion for each cell node, e.g. for a state h
  dL/dh_t = dL_t/dh_t + dL/dh_{t+1} * dh_{t+1}/dh_t, the second term absent at t = T;
- for each parameter, whether its gradient needs the sum back through time
  (it does when it enters a state, since h_{t-1} depends on it too) and the
  unrolled form dL_t/dp = dL_t/dh_t * sum_{k=1}^{t} (prod_{i=k+1}^{t} dh_i/dh_{i-1}) * d+h_k/dp,
  with d+ the immediate partial derivative, h_{k-1} held fixed.
"""

import re
from dataclasses import dataclass, field

import sympy
from sympy import Symbol

from ..model.spec import LOSS
from .backprop import AdjointSymbol, Derivation
from .graph import Cell


@dataclass
class Recursion:
    """dL/dn_t for one cell node: same-step terms plus terms from step t+1."""

    node: Symbol  # n[t]
    same_step: sympy.Expr  # sum over consumers at step t, in adjoint symbols
    next_step: sympy.Expr  # sum over consumers at step t+1 (0 if none)


@dataclass
class ParamThroughTime:
    """A parameter, or a value computed before the loop that the cell reads."""

    name: str
    through_time: bool
    states: list[str]  # the states it enters (through values computed before the loop too)
    adjoint_form: sympy.Expr  # the summand over t of dL/dp, in adjoint symbols
    immediate: dict[str, sympy.Expr] = field(default_factory=dict)  # state -> d+state_t/dp
    outside: sympy.Expr = sympy.S.Zero  # dL/dp through the lines outside the loop
    computed: bool = False  # a value computed before the loop, not a parameter
    start: sympy.Expr = sympy.S.Zero  # an initial state h0: dL/dh[1] carried one step back, at t = 0


@dataclass
class BPTT:
    steps: int
    reduce: str
    cell: Cell
    states: list[str]
    recursions: list[Recursion]
    params: list[ParamThroughTime]
    transition: dict[str, sympy.Expr]  # state -> d state_t / d state_{t-1} (scalar states)
    step_loss_grad: dict[str, sympy.Expr]  # state -> dL_t/dstate_t within step t
    final: dict[str, sympy.Expr] = field(default_factory=dict)  # state -> what lines after the loop add at t = T


def _shift(symbol: Symbol, cell: Cell, by: int = 1) -> Symbol:
    """h[t-1] -> h[t], h[t] -> h[t+1]: the same cell symbol one step later."""
    name, offset = _name_offset(symbol, cell)
    if name is None:
        return symbol
    key = f"{name}[t]" if offset + by == 0 else f"{name}[t{offset + by:+d}]"
    entry = symbol.name[symbol.name.index("]") + 1:] if "]" in symbol.name else ""
    cls = AdjointSymbol if isinstance(symbol, AdjointSymbol) else None
    if cls:
        return AdjointSymbol(key + entry)
    return Symbol(key + entry, real=True)


def _name_offset(symbol: Symbol, cell: Cell):
    if isinstance(symbol, AdjointSymbol):
        base = Symbol(symbol.of, real=True)
        return _name_offset(base, cell)
    if symbol in cell.inputs:
        return cell.inputs[symbol]
    for n in cell.nodes:
        if n.symbol == symbol:
            return cell.quantities[n.key].name, 0
    return None, 0


def _shift_expr(expr: sympy.Expr, cell: Cell, by: int = 1) -> sympy.Expr:
    return expr.xreplace({s: _shift(s, cell, by) for s in expr.free_symbols})


def _same_step(cell: Cell, local: dict, source: Symbol) -> dict[Symbol, sympy.Expr]:
    """d n_t / d source for every cell node n, through nodes of the same step."""
    d = {source: sympy.S.One}
    for n in cell.nodes:
        total = sympy.Add(*(local[n.symbol][p] * d[p] for p in local[n.symbol] if p in d))
        if total != 0:
            d[n.symbol] = total
    return d


def bptt(derivation: Derivation) -> BPTT | None:
    """Backpropagation through time for a generic t: the adjoint recursions, which
    parameters need the sum back through time, what the lines after the loop add
    at the last step, and the scalar one-step Jacobians."""
    cell = derivation.graph.cell
    if cell is None:
        return None
    w = _Walk(derivation)
    transition, step_loss = w.transitions()
    problem = derivation.graph.problem
    recursions, params = w.recursions(), w.params()
    starts = {q: h for h, q in problem.initial_params.items()}
    for p in params:  # h0's gradient: the recursion's term from step t + 1, at t = 0
        r = [r for r in recursions if p.name in starts and r.node.name == f"{starts[p.name]}[t]"]
        if r and not p.computed:
            p.start = _at_step(r[0].next_step, 0)
    return BPTT(problem.steps, problem.reduce, cell, w.states, recursions, params, transition, step_loss, w.final())


def _at_step(expr: sympy.Expr, t: int) -> sympy.Expr:
    """A cell expression at a given step: h[t+1] at t = 0 is h[1] (the unrolled graph's symbols)."""

    def concrete(symbol: Symbol) -> Symbol:
        key = symbol.of if isinstance(symbol, AdjointSymbol) else symbol.name
        m = re.match(r"^(\w+)\[t([+-]\d+)?\](.*)$", key)
        if m is None:
            return symbol
        key = f"{m.group(1)}[{t + int(m.group(2) or 0)}]{m.group(3)}"
        return AdjointSymbol(key) if isinstance(symbol, AdjointSymbol) else Symbol(key, real=True)

    return expr.xreplace({s: concrete(s) for s in expr.free_symbols})


class _Walk:
    """The cell of a derivation, read for BPTT."""

    def __init__(self, derivation: Derivation):
        self.derivation = derivation
        self.graph = graph = derivation.graph
        self.cell = cell = graph.cell
        self.local = derivation.cell_local
        self.name_of = {n.symbol: cell.quantities[n.key].name for n in cell.nodes}
        self.states = sorted(cell.states)
        problem = graph.problem
        self.loss_weight = sympy.S.One if problem.reduce == "sum" else 1 / sympy.Integer(problem.steps)
        self.state_nodes = {name: [n for n in cell.nodes if self.name_of[n.symbol] == name] for name in self.states}
        self.outside_nodes = [n for n in graph.nodes if n.cell is None]
        self.outside_symbols = {n.symbol for n in self.outside_nodes}

    def upstream(self, c) -> sympy.Expr:
        return self.loss_weight if self.name_of[c.symbol] == LOSS else AdjointSymbol(c.symbol.name)

    def recursions(self) -> list:
        """Each cell node's adjoint at a generic t: the same step, and step t + 1."""
        cell, local, out = self.cell, self.local, []
        for n in reversed(cell.nodes):
            if self.name_of[n.symbol] == LOSS:
                continue
            same, nxt = [], []
            for c in cell.nodes:
                for parent, d in local[c.symbol].items():
                    if parent == n.symbol:
                        same.append(self.upstream(c) * d)
                    elif parent in cell.inputs and cell.inputs[parent] == (self.name_of[n.symbol], -1):
                        if _entry(parent) == _entry(n.symbol):
                            nxt.append(_shift_expr(self.upstream(c) * d, cell))
            out.append(Recursion(n.symbol, sympy.Add(*same), sympy.Add(*nxt)))
        return out

    def in_cell(self, symbols) -> tuple[sympy.Expr, list[str]]:
        """The summand over t of the cell's uses, and the states entered."""
        uses, entered = [], []
        for p in symbols:
            d = _same_step(self.cell, self.local, p)
            uses += [self.upstream(c) * self.local[c.symbol][p] for c in self.cell.nodes if p in self.local[c.symbol]]
            entered += [s for s, nodes in self.state_nodes.items() if any(x.symbol in d for x in nodes)]
        return sympy.Add(*uses), sorted(set(entered))

    def reaches(self, p: Symbol) -> set[Symbol]:
        """The values computed outside the loop that depend on p."""
        found, todo = set(), [p]
        while todo:
            for c in self.derivation.consumers.get(todo.pop(), []):
                if c in self.outside_symbols and c not in found:
                    found.add(c)
                    todo.append(c)
        return found

    def params(self) -> list:
        """Which parameters (and values before the loop) need the sum back through time."""
        derivation, read_by_cell = self.derivation, {p for c in self.cell.nodes for p in self.local[c.symbol]}
        feeding = [n for n in self.outside_nodes if n.symbol in read_by_cell]  # e.g. s = 2*w before the loop
        entered_by = {n.symbol: self.in_cell([n.symbol])[1] for n in feeding}
        out = []
        for q in self.graph.params:
            summand, entered = self.in_cell(q.symbols())
            via = [s for p in q.symbols() for n in self.reaches(p) for s in entered_by.get(n, [])]
            entered = sorted(set(entered) | set(via))
            outside = sympy.Add(*(
                derivation.adjoint_symbol[c] * derivation.local[c][p]
                for p in q.symbols() for c in derivation.consumers.get(p, []) if c in self.outside_symbols
            ))
            record = ParamThroughTime(q.name, bool(entered), entered, summand, outside=outside)
            if entered and q.shape is None:
                d = _same_step(self.cell, self.local, q.value)
                for s in entered:
                    nodes = self.state_nodes[s]
                    if len(nodes) == 1 and nodes[0].symbol in d:
                        record.immediate[s] = d[nodes[0].symbol]
            out.append(record)
        for n in feeding:
            summand, entered = self.in_cell([n.symbol])
            out.append(ParamThroughTime(n.symbol.name, bool(entered), entered, summand, computed=True))
        return out

    def final(self) -> dict:
        """What the lines after the loop add to a state at the last step."""
        derivation, final = self.derivation, {}
        for state, nodes in self.state_nodes.items():
            if len(nodes) != 1:
                continue
            last = Symbol(f"{state}[{self.graph.problem.steps}]", real=True)
            terms = [derivation.adjoint_symbol[c] * derivation.local[c][last]
                     for c in derivation.consumers.get(last, []) if c in self.outside_symbols]
            if terms:
                final[state] = sympy.Add(*terms)
        return final

    def transitions(self) -> tuple[dict, dict]:
        """Scalar states: the one-step Jacobian and the same-step loss gradient."""
        transition, step_loss = {}, {}
        loss_nodes = [n for n in self.cell.nodes if self.name_of[n.symbol] == LOSS]
        for s in self.states:
            nodes = self.state_nodes[s]
            previous = [x for x, (name, off) in self.cell.inputs.items() if name == s and off == -1]
            if len(nodes) != 1 or len(previous) != 1:
                continue
            d = _same_step(self.cell, self.local, previous[0])
            transition[s] = d.get(nodes[0].symbol, sympy.S.Zero)
            if loss_nodes:
                dl = _same_step(self.cell, self.local, nodes[0].symbol)
                step_loss[s] = dl.get(loss_nodes[0].symbol, sympy.S.Zero)
        return transition, step_loss


def _entry(symbol: Symbol) -> str:
    """The entry part of a cell symbol's name: '[0]' of 'h[t-1][0]'."""
    name = symbol.name
    first = name.find("]")
    return name[first + 1:] if first >= 0 else ""

