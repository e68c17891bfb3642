"""The statement: the network as equations, the given numbers, the conventions, the figure."""


import numpy as np
import sympy

from ...derive.mathobj import Sum
from ...derive.program import walk
from ...model.functions import relu_prime
from ...model.kinds import Role
from ...model.spec import LOSS
from ..blocks import Figure, Rows, Table
from ..maths import Relation
from ..pictures import picture
from .base import MAX_FIGURE, SHOW_STEPS, _steps, _sym, forward_range


class Statement:
    """The statement, as methods of the document's builder."""

    def statement(self, solving: bool) -> list:
        problem = self.problem
        if not self.scalar:
            return self.program_statement(solving)
        g = self.graph
        out = []
        if g.cell is not None:
            out.append(self.p("cell_intro", range=forward_range(problem.notation), T=_steps(problem)))
            if self.matrix is not None:
                rows = [[_sym(f"{n}[t]" if s is not None else n), self.pre_matrix(e)]
                        for n, s, e in self.matrix.equations]
            else:
                rows = [[n.symbol, n.expr] for n in g.cell.nodes if not n.key.startswith("L[")]
            out.append(Rows(rows))
            loss_cell = [n for n in g.cell.nodes if n.key.startswith("L[")]
            out.append(self.p("loss_intro"))
            t = _sym("t")
            if loss_cell:
                total = Sum(_sym(LOSS + "[t]"), t, sympy.Integer(1), _sym("T"))
                if problem.reduce == "mean":
                    total = total / _sym("T")
                body = loss_cell[0].expr if self.matrix is None else self.pre_matrix(self.matrix.loss)
                out.append(Rows([[_sym(LOSS), total], [_sym(LOSS + "[t]"), body]]))
            else:  # a loss after the cell: as the spec writes it, for whole arrays (not entry by entry)
                body = g.nodes[-1].expr if self.matrix is None else self.pre_matrix(self.matrix.loss)
                out.append(Rows([[_sym(LOSS), body]]))
            for key, q in g.quantities.items():
                if q.kind == Role.INITIAL:
                    out.append(self.p("initial", h0=self.initial_state(key, q.value)))
        else:
            out.append(self.p("model_intro"))
            if self.matrix is not None:
                rows = [[_sym(n), self.pre_matrix(e)] for n, s, e in self.matrix.equations]
                rows.append([_sym(LOSS), self.pre_matrix(self.matrix.loss)])
            else:
                rows = [[n.symbol, n.expr] for n in g.nodes]
            out.append(Rows(rows))
        figure = self.figure()
        if figure is not None:
            out.append(figure)
        relu = any(type(f).__name__ == "relu" for n in (g.cell.nodes if g.cell else g.nodes)
                   for f in n.expr.atoms(sympy.Function))
        return out + self.given(solving, relu)

    def program_statement(self, solving: bool) -> list:
        """The statement of a large matrix problem, from its equations alone."""
        problem, program = self.problem, self.program
        out = []
        if program.recurrent:
            out.append(self.p("cell_intro", range=forward_range(problem.notation), T=_steps(problem)))
        else:
            out.append(self.p("model_intro"))
        rows = [[_sym(f"{n}[t]" if s is not None else n), self.pre_matrix(e)] for n, s, e in self.matrix.equations]
        if program.per_step_loss:
            out += [Rows(rows), self.p("loss_intro")]
            total = Sum(_sym(LOSS + "[t]"), _sym("t"), sympy.Integer(1), _sym("T"))
            if problem.reduce == "mean":
                total = total / _sym("T")
            out.append(Rows([[_sym(LOSS), total], [_sym(LOSS + "[t]"), self.pre_matrix(self.matrix.loss)]]))
        else:
            rows.append([_sym(LOSS), self.pre_matrix(self.matrix.loss)])
            out.append(Rows(rows))
        for key, leaf in program.leaves.items():
            if leaf.kind == Role.INITIAL:
                out.append(self.p("initial", h0=self.initial_state(key, problem.initial[leaf.name], zero=True)))
        relu = any(e.op == "fn" and e.name == "relu" for line in program.lines() for e in walk(line.expr))
        return out + self.given(solving, relu)

    def initial_state(self, key: str, value, zero: bool = False) -> Relation:
        """h₀ = 0.5, as this document prints numbers (a large state by its
        shape); with ``zero``, a state of zeros as 0."""
        array = np.array(value.tolist() if isinstance(value, sympy.MatrixBase) else value, dtype=float)
        n = self.num(0.0 if zero and not np.any(array) else array if array.ndim else float(array))
        return Relation(_sym(key), n)  # a large one: its shape

    def given(self, solving: bool, relu: bool) -> list:
        """Every input of the problem, the conventions, and (without parts) the task."""
        problem, out = self.problem, []
        if solving and problem.values:
            out.append(self.p("given"))
            rows = []
            for name, value in problem.values.items():
                if name not in problem.sequences:
                    rows.append([_sym(name), self.num(value)])
            if rows:
                out.append(Rows(rows))
            table = self.sequence_table()
            if table is not None:
                out += [self.p("given_sequences"), table]
            if problem.training.lr is not None:
                out.append(self.p("given_lr", lr=Relation(_sym(self.lr_name), self.num(problem.training.lr))))
        if problem.conventions.index_base:
            out.append(self.p("index_base", base=sympy.Integer(problem.conventions.index_base)))
        if relu:
            out.append(self.p("relu_convention", indicator=relu_prime(_sym("z")),
                              value=self.num(problem.conventions.relu_grad_at_zero)))
        if not solving or problem.parts:
            return out
        task = [self.p("task_solve")]
        if problem.training.lr is not None:
            if problem.training.batches:
                task.append(self.p("task_batches", lr=self.num(problem.training.lr),
                                   n=sympy.Integer(len(problem.training.batches))))
            else:
                task.append(self.p("task_step", lr=self.num(problem.training.lr)))
        return out + task

    def used_steps(self, name: str) -> list[int]:
        """The steps t at which the model reads the sequence ``name``."""
        steps = set()
        for line in self.program.lines():
            for e in walk(line.expr):
                if e.name != name:
                    continue
                if e.op == "at":
                    steps.add(e.step)
                elif e.op == "leaf":
                    cell = any(line is c for c in self.program.cell)
                    steps |= {t + (e.step or 0) for t in range(1, self.problem.steps + 1)} if cell else set()
        return sorted(t for t in steps if 0 <= t < len(self.problem.values[name]))

    def sequence_table(self) -> Table | None:
        """The sequences given, one row each, over the steps the model reads."""
        problem = self.problem
        names = [n for n in problem.values if n in problem.sequences]
        if not names or not problem.recurrent or problem.steps > SHOW_STEPS:
            return None
        used = {n: self.used_steps(n) for n in names}
        steps = sorted({t for ts in used.values() for t in ts})
        header = [self.word("t")] + [sympy.Integer(t) for t in steps]
        rows = []
        for n in names:
            rows.append([_sym(f"{n}[t]")] + [self.num(problem.values[n][t]) if t in used[n] else "–" for t in steps])
        return Table(header, rows)

    def figure(self, grad: bool = False) -> Figure | None:
        pic = picture(self.problem, grad=grad, lang=self.lang)
        if len(pic.vertices) > MAX_FIGURE:
            return None
        return Figure(pic)
