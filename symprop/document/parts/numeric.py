"""The numeric pieces: the forward pass worked out, the backward pass, the gradients, a step of gradient descent."""


import numpy as np
import sympy

from ...derive.bptt import bptt
from ...derive.mathobj import Product
from ...model.keys import Key
from ...model.spec import LOSS
from ..blocks import Para, Rows, Table
from ..maths import Typeset
from ..numbers import (
    factor,
    paren,
)
from .base import SHOW_STEPS, SHOW_WORK_STEPS, _adj, _at_step, _join, _names, _sym


class Numeric:
    """The numeric pieces, as methods of the document's builder."""

    def small_cell(self) -> bool:
        """A recurrent model short and scalar enough to show every step's arithmetic."""
        return self.program.recurrent and self.matrix is None and self.problem.steps <= SHOW_WORK_STEPS

    def piece_forward(self, step, solution) -> list:
        problem = self.problem
        out = [self.p("forward_intro")]
        if self.program.recurrent:
            if problem.steps <= SHOW_STEPS:
                out += [self.p("forward_table"), self.time_table(step.values)]
            if self.small_cell():
                out += [self.p("forward_steps"), Rows(self.cell_rows(step, [n for n in self.graph.cell.nodes]))]
            out += self.first_step_working(step)
            losses = [_sym(f"L[{t}]") for t in range(1, problem.steps + 1)]
            have = all(f"L[{t}]" in step.values for t in range(1, problem.steps + 1))
            total = self.joined(losses) if problem.steps <= SHOW_STEPS and have else None
            row = [_sym(LOSS)]
            if total is not None:
                terms = [step.values[f"L[{t}]"] for t in range(1, problem.steps + 1)]
                style = self.sum_style(terms, step.loss)
                sums = [style.column(x) for x in terms]
                row += [total, _join([_bracketed(x) for x in sums])]
                if problem.reduce == "mean":
                    row = [_sym(LOSS)]
            row.append(self.result(step.loss))
            if total is None:
                row = self.loss_row(step, row)
            return out + [self.p("loss_value"), Rows([row])]
        numbers = self.numbers(step) if self.scalar else None
        lines = {line.key: line for line in self.program.lines()}
        rows = []
        for key, value in step.values.items():
            if not isinstance(value, np.ndarray) and self.scalar:
                node = next(n for n in self.graph.nodes if n.key == key)
                rows.append(self.worked(_sym(key), node.expr, numbers, value))
            elif self.matrix is not None and key in lines:
                rows += self.array_rows(step, [lines[key]], None, lambda line: line.key)
            else:
                rows.append([_sym(key), self.result(value)])
        if getattr(self, "arrays_shown", False):
            out += self.limit_said()
        out.append(Rows(rows))
        loss = self.graph.nodes[-1] if self.scalar else None
        row = self.worked(_sym(LOSS), loss.expr, numbers, step.loss) if loss is not None else [_sym(LOSS), self.result(step.loss)]
        if loss is None:
            row = self.loss_row(step, row)
        return out + [self.p("loss_value"), Rows([row])]

    def cell_rows(self, step, nodes, adjoint: bool = False) -> list:
        """Each cell line at t = 1, …, T (backwards for adjoints), with its numbers."""
        T = self.problem.steps
        rows = []
        if not adjoint:
            for t in range(1, T + 1):
                numbers = self.numbers(step, t)
                for n in nodes:
                    key = f"{self.graph.cell.quantities[n.key].name}[{t}]"
                    rows.append(self.worked(_sym(key), _at_step(n.expr, t), numbers, step.values.get(key)))
            return rows
        b = bptt(self.derivation)
        for t in range(T, 0, -1):
            numbers = self.numbers(step, t)
            for r in b.recursions:
                expr = r.same_step if t == T or r.next_step == 0 else r.same_step + r.next_step
                name = Key.parse(r.node.name).name
                if t == T and name in b.final:
                    expr = expr + b.final[name]
                key = f"{name}[{t}]"
                if key in step.adjoints:
                    rows.append(self.worked(_adj(key), _at_step(expr, t), numbers, step.adjoints[key]))
        return rows

    def piece_backward(self, step, solution) -> list:
        if step is None:
            return self.adjoint_rows() if self.scalar and not self.program.recurrent else []
        problem = self.problem
        out = [self.p("backward_intro")]
        if self.program.recurrent:
            if problem.steps <= SHOW_STEPS:
                out.append(self.time_table(step.adjoints, adjoint=True))
            if self.small_cell():
                out += [self.p("backward_steps"), Rows(self.cell_rows(step, None, adjoint=True))]
            worked = [row for rows in self.backward_rows(step).values() for row in rows]
            if worked:
                out += [*self.limit_said(), self.p("first_step_back", t=sympy.Eq(_sym("t"), problem.steps)),
                        Rows(worked)]
            return out + self.norms_blocks(step)
        numbers = self.numbers(step) if self.matrix is None else None
        worked = self.backward_rows(step)
        rows = []
        for key, value in reversed(step.adjoints.items()):
            if not isinstance(value, np.ndarray) and self.matrix is None:
                q = self.graph.quantities[key]
                rows.append(self.worked(_adj(key), self.derivation.adjoints[q.value], numbers, value))
            else:
                rows += worked.get(key, [[_adj(key), self.result(value)]])
            rows += worked.get("δ" + key, [])
        if worked:
            out += self.limit_said()
        out.append(Rows(rows))
        return out

    def piece_gradients(self, step, solution) -> list:
        problem = self.problem
        worked = self.scalar and (not self.program.recurrent or self.small_cell())
        numbers = self.numbers(step) if worked else None
        arrays = self.gradient_rows(step)
        rows = []
        for name, value in step.gradients.items():
            q = self.graph.quantities[name] if worked else None
            if q is not None and not isinstance(value, np.ndarray):
                rows.append(self.worked(_adj(name), self.derivation.gradients[q.value], numbers, value))
            else:
                rows += arrays.get(name, [[_adj(name), self.result(value)]])
        out = [self.p("gradients_intro")] if worked or arrays else []
        out.append(Rows(rows))
        if step.kinks:
            value = problem.conventions.relu_grad_at_zero
            key = "kinks" if value == 0 else "kinks_other"
            out.append(self.p(key, nodes=_names(step.kinks, self), value=self.num(value)))
        return out

    def piece_step(self, step, solution) -> list:
        problem = self.problem
        lr = problem.training.lr
        out = [self.p("step_intro", eta=self.name_of("text")(self.lr_name), lr=self.num(lr))]
        for i, st in enumerate(solution.steps, start=1):
            if len(solution.steps) > 1:
                out.append(self.p("batch_step", i=sympy.Integer(i), loss=self.result(st.loss)))
            rows = []
            for name, new in st.updated.items():
                grad, old = st.gradients[name], st.leaves[name]
                rule = self.before_step(name, i) - Product(_sym(self.lr_name), _adj(name))
                row = [_sym(f"{name}@{i}"), rule]
                if not isinstance(new, np.ndarray):
                    o, r, gr = self.num(old) if i == 1 else self.result(old), self.num(lr), self.result(grad)
                    row.append(_update(o, r, gr))
                row.append(self.result(new))
                rows.append(row)
            out.append(Rows(rows))
        out.append(self.p("step_order"))
        example = self.old_weight_example()
        if example is not None:
            out.append(example)
        return out

    def old_weight_example(self) -> Para | None:
        """A node's derivative that reads a weight: it must see the weight before its update."""
        if not self.scalar or self.program.recurrent:
            return None
        d, params = self.derivation, set(self.graph.param_symbols())
        for n in reversed(self.graph.nodes):
            expr = d.adjoints.get(n.symbol)
            if expr is None or n.symbol == self.graph.loss:
                continue
            used = sorted((s for s in expr.free_symbols if s in params), key=lambda s: s.name)
            if used:
                p = used[0]
                return self.p("step_order_example", adjoint=sympy.Eq(_adj(n.symbol.name), expr, evaluate=False),
                              p=p, pnew=_sym(f"{p.name}@1"))
        return None

    def time_table(self, table: dict, adjoint: bool = False) -> Table:
        problem = self.problem
        T = problem.steps
        if self.scalar:
            names = [q.name for q in self.graph.cell.quantities.values() if q.step == 0]
        else:
            names = [line.key for line in self.program.cell]
        if not adjoint:
            names += sorted(n for n in problem.sequences if n not in names and n in problem.values)
        header = [self.word("t")] + [sympy.Integer(t) for t in range(0 if not adjoint else 1, T + 1)]
        rows = []
        for name in names:
            cells = []
            for t in range(0 if not adjoint else 1, T + 1):
                key = f"{name}[{t}]"
                if key in table:  # computed: a column of fixed decimals
                    cells.append(self.style.column(table[key]))
                elif not adjoint and name in problem.values and t in self.used_steps(name):
                    cells.append(self.num(problem.values[name][t]))
                else:
                    cells.append("–")
            if all(c == "–" for c in cells):
                continue
            rows.append([_adj(f"{name}[t]") if adjoint else _sym(f"{name}[t]")] + cells)
        return Table(header, rows)


def _bracketed(n) -> Typeset:
    """A number in brackets when negative, as it stands in a sum."""
    return Typeset(lambda _, latex: paren(n.latex() if latex else n.text(), latex))


def _update(old, rate, grad) -> Typeset:
    """The numbers of a gradient-descent step: w − η·∂L/∂w."""
    return Typeset(lambda _, latex: rf"{old.latex()} - {rate.latex()} \cdot {paren(grad.latex(), True)}" if latex
                   else f"{old.text()} - {factor(rate.text())}·{factor(grad.text())}")
