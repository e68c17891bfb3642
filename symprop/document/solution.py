"""A worked solution as a format-free document.

The engine's derivation and numbers become lettered questions, each with its
solution: prose (by key, from ``strings``), rows of equations (SymPy objects,
numbers, or matrix formulas already printed), and tables.  One renderer per
format turns it into text, LaTeX, MyST or Markdown.
"""

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy
from sympy import Symbol

from ..derive.backprop import AdjointSymbol, derivation_of
from ..derive.closed_form import ClosedForms
from ..derive.graph import graph_of
from ..derive.mathobj import Partial, Product, Sum
from ..derive.program import has_arrays, program_of
from ..derive.sweep import matrix_form_of, through_time
from ..evaluate.scalar import MAX_SCALAR_TERMS, scalar_terms
from .numbers import (  # noqa: F401
    MAX_ENTRIES_SHOWN,
    Number,
    Pre,
    _fmt,
    _number,
    _power_of_ten_above,
    _short_value,
)
from .strings import phrase


@dataclass
class Para:
    parts: list  # str, or mathematics (a SymPy object, a number, a Pre)


@dataclass
class Rows:
    """Equations, one a row: [left, right, right, ...] joined by '='."""

    rows: list[list]
    notes: list[str] = field(default_factory=list)


@dataclass
class Table:
    header: list
    rows: list[list]


@dataclass
class Figure:
    """The computational graph, drawn for each format."""

    dot: str
    tikz: str
    mermaid: str


@dataclass
class Part:
    """A lettered question and its solution."""

    question: Para
    solution: list


@dataclass
class Section:
    """A titled section after the parts: the teacher's appendix."""

    title: str
    blocks: list


@dataclass
class Document:
    title: str
    lang: str
    source: str | None
    statement: list
    parts: list[Part]
    index_base: int = 0
    sequences: frozenset = frozenset()
    appendix: list[Section] = field(default_factory=list)

    def word(self, key: str) -> str:
        return phrase(self.lang, key)


def para(lang: str, key: str, **math) -> Para:
    """A sentence from the string table, its {places} filled with mathematics."""
    template = phrase(lang, key)
    parts: list = []
    for piece in re.split(r"(\{[A-Za-z0-9_]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            parts.append(math[piece[1:-1]])
        elif piece:
            parts.append(piece)
    return Para(parts)


def _sym(key: str) -> Symbol:
    return Symbol(key, real=True)


def _adj(key: str) -> AdjointSymbol:
    return AdjointSymbol(key)


SHOW_STEPS = 12  # a recurrent model longer than this is shown by its cell only
MAX_STORY = 200  # local derivatives in all closed forms together; past it, the adjoint form
MAX_SHOWN = 300  # nodes of a closed form a document prints
MAX_FIGURE = 40  # vertices of a computational graph a document draws


class _Builder:
    def __init__(self, problem, lang: str | None, audience: str = "teacher", digits: int | None = None):
        self.problem = problem
        self.lang = lang or problem.lang
        self.audience = audience
        self.digits = digits
        self.program = program_of(problem)
        self.matrix = matrix_form_of(problem) if has_arrays(self.program) else None
        # The entry-by-entry engine shows scalar closed forms; a large matrix
        # problem is told from the program alone.
        self.scalar = self.matrix is None or scalar_terms(self.program) <= MAX_SCALAR_TERMS

    @cached_property
    def derivation(self):
        return derivation_of(self.problem)

    @cached_property
    def graph(self):
        return graph_of(self.problem)

    def num(self, value):
        """A number as this document prints it (--digits)."""
        return _number(value, self.digits)

    def p(self, key: str, **math) -> Para:
        return para(self.lang, key, **math)

    def word(self, key: str) -> str:
        return phrase(self.lang, key)

    def name_of(self, printer_style: str):
        from .printing import unicode_name
        from .render.latex_printer import latex_name

        seq = self.problem.sequences | {"L"}
        base = self.problem.conventions.index_base
        if printer_style == "latex":
            return lambda key: latex_name(key, base, seq)
        return lambda key: unicode_name(key, base, seq)

    def pre_matrix(self, m) -> Pre:
        from .formulas import LATEX, TEXT, text
        from .printing import TextPrinter
        from .render.latex_printer import SympropLatexPrinter

        base, seq = self.problem.conventions.index_base, self.problem.sequences
        return Pre(
            text(m, self.name_of("text"), TextPrinter(base, seq), TEXT),
            text(m, self.name_of("latex"), SympropLatexPrinter(base, seq), LATEX),
        )

    # The statement ---------------------------------------------------------------

    def statement(self, solving: bool) -> list:
        problem = self.problem
        if not self.scalar:
            return self.program_statement(solving)
        g = self.graph
        out = []
        if g.cell is not None:
            out.append(self.p("cell_intro", T=sympy.Integer(problem.steps)))
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
                total = Sum(_sym("L[t]"), t, sympy.Integer(1), _sym("T"))
                if problem.reduce == "mean":
                    total = total / _sym("T")
                body = loss_cell[0].expr if self.matrix is None else self.pre_matrix(self.matrix.loss)
                out.append(Rows([[_sym("L"), total], [_sym("L[t]"), body]]))
            else:
                out.append(Rows([[_sym("L"), g.nodes[-1].expr]]))
            for key, q in g.quantities.items():
                if q.kind == "initial":
                    out.append(self.p("initial", h0=sympy.Eq(_sym(key), q.value, evaluate=False)))
        else:
            out.append(self.p("model_intro"))
            if self.matrix is not None:
                rows = [[_sym(n), self.pre_matrix(e)] for n, s, e in self.matrix.equations]
                rows.append([_sym("L"), self.pre_matrix(self.matrix.loss)])
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
            out.append(self.p("cell_intro", T=sympy.Integer(problem.steps)))
        else:
            out.append(self.p("model_intro"))
        rows = [[_sym(f"{n}[t]" if s is not None else n), self.pre_matrix(e)] for n, s, e in self.matrix.equations]
        if program.per_step_loss:
            out += [Rows(rows), self.p("loss_intro")]
            total = Sum(_sym("L[t]"), _sym("t"), sympy.Integer(1), _sym("T"))
            if problem.reduce == "mean":
                total = total / _sym("T")
            out.append(Rows([[_sym("L"), total], [_sym("L[t]"), self.pre_matrix(self.matrix.loss)]]))
        else:
            rows.append([_sym("L"), self.pre_matrix(self.matrix.loss)])
            out.append(Rows(rows))
        for key, leaf in program.leaves.items():
            if leaf.kind == "initial":
                out.append(self.p("initial", h0=Pre(self.name_of("text")(key) + " = " + _short_value(
                    problem.initial[leaf.name]), self.name_of("latex")(key) + " = " + _short_value(
                    problem.initial[leaf.name]))))
        relu = any(e.op == "fn" and e.name == "relu" for line in program.lines() for e in _walk(line.expr))
        return out + self.given(solving, relu)

    def given(self, solving: bool, relu: bool) -> list:
        """The numbers given, the conventions, and the task."""
        problem, out = self.problem, []
        if solving and problem.values:
            out.append(self.p("values_intro"))
            rows = []
            for name, value in problem.values.items():
                if name in problem.sequences:
                    continue
                rows.append([_sym(name), self.num(value)])
            if rows:
                out.append(Rows(rows))
        if relu:
            from ..model.functions import relu_prime

            out.append(self.p("relu_convention", indicator=relu_prime(_sym("z")),
                              value=self.num(problem.conventions.relu_grad_at_zero)))
        if not solving:
            return out
        task = [self.p("task_solve")]
        if solving and problem.training.lr is not None:
            if problem.training.batches:
                task.append(self.p("task_batches", lr=self.num(problem.training.lr),
                                   n=sympy.Integer(len(problem.training.batches))))
            else:
                task.append(self.p("task_step", lr=self.num(problem.training.lr)))
        return out + task

    def figure(self) -> Figure | None:
        from .pictures import picture, to_dot, to_mermaid, to_tikz

        pic = picture(self.problem)
        if len(pic.vertices) > MAX_FIGURE:
            return None
        return Figure(to_dot(pic), to_tikz(pic), to_mermaid(pic))

    # Symbolic parts ----------------------------------------------------------------

    def symbolic_parts(self) -> list[Part]:
        from .story import algorithm, story

        parts = []
        if self.program.recurrent:
            parts.append(Part(self.p("q_bptt"), self.bptt()))
        elif self.matrix is None:
            d = self.derivation
            s = story(d)
            if s is not None and s.naive > MAX_STORY:  # the closed forms would fill pages
                s = None
            if s is not None:
                rows = [[_adj(gr.param.name), s.chain(gr), s.closed(gr, boxed=False)] for gr in s.gradients]
                parts.append(Part(self.p("q_closed"), [self.p("closed_intro"), Rows(rows)]))
                boxed = [[_adj(gr.param.name), s.closed(gr, boxed=True)] for gr in s.gradients]
                parts.append(Part(self.p("q_shared"), [
                    self.p("shared_intro"), Rows(boxed),
                    self.p("shared_count", naive=sympy.Integer(s.naive), backprop=sympy.Integer(s.backprop),
                           m=sympy.Integer(s.depth)),
                ]))
                rows = []
                dsym = _sym("d")
                for step in algorithm(d, s):
                    if step.kind == "d":
                        first = not rows
                        lhs_chain = step.chain if first else Product(dsym, *step.chain.args)
                        lhs_value = step.value if first else Product(dsym, *step.value.args)
                        rows.append([dsym, lhs_chain, lhs_value])
                    else:
                        rows.append([_adj(step.target.name), Product(dsym, step.chain), Product(dsym, step.value)])
                parts.append(Part(self.p("q_algorithm"), [self.p("algorithm_intro"), Rows(rows)]))
            else:
                parts.append(Part(self.p("q_backward"), self.adjoint_rows()))
        if self.matrix is not None:
            question = "q_matrix" if parts else "q_matrix_first"
            parts.append(Part(self.p(question), self.matrix_rows()))
        return parts

    def adjoint_rows(self) -> list:
        d, g = self.derivation, self.graph
        forms = ClosedForms(d, limit=MAX_SHOWN)
        rows = [[_adj(n.symbol.name), d.adjoints[n.symbol]] for n in reversed(g.nodes) if n.symbol != g.loss]
        grads = []
        for p in g.param_symbols():
            closed = forms.of_adjoint(p)
            grads.append([_adj(p.name), d.gradients[p]] + ([closed] if closed is not None else []))
        return [self.p("adjoints_intro"), Rows(rows), self.p("gradients_from_adjoints"), Rows(grads)]

    def matrix_rows(self) -> list:
        from .formulas import LATEX, TEXT, formula_rows
        from .printing import TextPrinter
        from .render.latex_printer import SympropLatexPrinter

        base, seq = self.problem.conventions.index_base, self.problem.sequences
        text_rows = formula_rows(self.matrix, self.name_of("text"), TextPrinter(base, seq), TEXT)
        latex_rows = formula_rows(self.matrix, self.name_of("latex"), SympropLatexPrinter(base, seq), LATEX)
        rows = []
        for (tl, ts, _), (ll, ls, _) in zip(text_rows, latex_rows):
            rows.append([Pre(tl, ll)] + [Pre(a, b) for a, b in zip(ts, ls)])
        notes = [self.word(note) if note else "" for _, _, note in text_rows]
        intro = "matrix_intro_rnn" if self.matrix.recurrent else "matrix_intro"
        return [self.p(intro), Rows(rows, notes)]

    def through_time(self, params) -> list:
        """Which parameters need the sum back through time, and why."""
        out = []
        for p in params:
            if p.computed:
                out.append(self.p("bptt_computed", p=_sym(p.name)))
            elif p.through_time:
                state = p.states[0]
                out.append(self.p("bptt_yes", p=_sym(p.name), h=_sym(f"{state}[t]"),
                                  hprev=_sym(f"{state}[t-1]")))
            else:
                out.append(self.p("bptt_no", p=_sym(p.name)))
        return out

    def bptt(self) -> list:
        from ..derive.bptt import bptt

        if self.matrix is not None:  # the matrix form says it for whole vectors
            return self.through_time(through_time(self.program))
        d = self.derivation
        b = bptt(d)
        out = [self.p("local_intro")]
        rows = []
        for n in b.cell.nodes:
            for parent, local in d.cell_local[n.symbol].items():
                if parent in b.cell.inputs and b.cell.inputs[parent][0] not in b.cell.states:
                    continue
                rows.append([Partial(n.symbol, parent), local])
        out.append(Rows(rows))
        out.append(self.p("bptt_intro"))
        rows = []
        for r in b.recursions:
            rhs = r.same_step if r.next_step == 0 else r.same_step + r.next_step
            rows.append([_adj(r.node.name), rhs])
        out.append(Rows(rows))
        for state in b.states:
            out.append(self.p("bptt_words", h=_sym(f"{state}[t]"), hnext=_sym(f"{state}[t+1]")))
            if state in b.final:
                out.append(self.p("bptt_final", h=_adj(f"{state}[{b.steps}]"), extra=b.final[state]))
        out.append(self.p("bptt_grads"))
        t = _sym("t")
        rows = []
        for p in b.params:
            total = Sum(p.adjoint_form, t, sympy.Integer(1), _sym("T")) if p.adjoint_form != 0 else None
            if total is None and p.outside == 0:
                total = sympy.S.Zero
            rhs = total if p.outside == 0 else (p.outside if total is None else total + p.outside)
            rows.append([_adj(p.name), rhs])
        out.append(Rows(rows))
        out += self.through_time(b.params)
        for state, transition in b.transition.items():
            through = [p for p in b.params if p.through_time and state in p.immediate]
            if not through or state not in b.step_loss_grad:
                continue
            out.append(self.p("unrolled", h=_sym(f"{state}[t]"), hprev=_sym(f"{state}[t-1]")))
            k, i = _sym("k"), _sym("i")
            generic = Pre(
                f"∂Lₜ/∂p = ∂Lₜ/∂{state}ₜ · Σ_(k=1..t) (Π_(i=k+1..t) ∂{state}ᵢ/∂{state}ᵢ₋₁) · ∂⁺{state}ₖ/∂p",
                rf"\frac{{\partial L_{{t}}}}{{\partial p}} = \frac{{\partial L_{{t}}}}{{\partial {state}_{{t}}}}"
                rf" \sum_{{k=1}}^{{t}} \left( \prod_{{i=k+1}}^{{t}} \frac{{\partial {state}_{{i}}}}"
                rf"{{\partial {state}_{{i-1}}}} \right) \frac{{\partial^{{+}} {state}_{{k}}}}{{\partial p}}",
            )
            del k, i
            rows = [[Partial(_sym(f"{state}[t]"), _sym(f"{state}[t-1]")), transition],
                    [Partial(_sym("L[t]"), _sym(f"{state}[t]")), b.step_loss_grad[state]]]
            for p in through:
                rows.append([Pre(f"∂⁺{state}ₜ/∂{p.name}",
                                 rf"\frac{{\partial^{{+}} {state}_{{t}}}}{{\partial {self.name_of('latex')(p.name)}}}"),
                             p.immediate[state]])
            out += [Rows([[generic]]), Rows(rows)]
        return out

    # Numbers -------------------------------------------------------------------------

    def numeric_parts(self, solution) -> list[Part]:
        problem = self.problem
        step = solution.first
        parts = []
        forward = [self.p("forward_intro")]
        if self.program.recurrent:
            if problem.steps <= SHOW_STEPS:
                forward += [self.p("forward_table"), self.time_table(step.values)]
        else:
            rows = []
            for key, value in step.values.items():
                if not isinstance(value, np.ndarray) and self.scalar:
                    node = next(n for n in self.graph.nodes if n.key == key)
                    rows.append([_sym(key), node.expr, self.num(value)])
                else:
                    rows.append([_sym(key), self.num(value)])
            forward.append(Rows(rows))
        forward += [self.p("loss_value"), Rows([[_sym("L"), self.num(step.loss)]])]
        parts.append(Part(self.p("q_forward"), forward))

        parts += self.symbolic_parts()

        backward = [self.p("backward_intro")]
        if self.program.recurrent:
            if problem.steps <= SHOW_STEPS:
                backward.append(self.time_table(step.adjoints, adjoint=True))
        else:
            rows = []
            for key, value in reversed(step.adjoints.items()):
                if not isinstance(value, np.ndarray) and self.matrix is None:
                    q = self.graph.quantities[key]
                    rows.append([_adj(key), self.derivation.adjoints[q.value], self.num(value)])
                else:
                    rows.append([_adj(key), self.num(value)])
            backward.append(Rows(rows))
        parts.append(Part(self.p("q_backward"), backward))

        rows = [[_adj(name), self.num(value)] for name, value in step.gradients.items()]
        gradients = [Rows(rows)]
        if step.kinks:
            nodes = ", ".join(self.name_of("text")(k) for k in step.kinks)
            value = problem.conventions.relu_grad_at_zero
            key = "kinks" if value == 0 else "kinks_other"
            gradients.append(self.p(key, nodes=Pre(nodes, ", ".join(self.name_of("latex")(k) for k in step.kinks)),
                                    value=self.num(value)))
        parts.append(Part(self.p("q_gradients"), gradients))

        if step.updated is not None:
            lr = problem.training.lr
            out = [self.p("step_intro", lr=self.num(lr))]
            for i, st in enumerate(solution.steps, start=1):
                if len(solution.steps) > 1:
                    out.append(self.p("batch_step", i=sympy.Integer(i), loss=self.num(st.loss)))
                rows = []
                for name, new in st.updated.items():
                    grad = st.gradients[name]
                    old = new + lr * grad
                    rule = _sym(name) - Product(_sym("eta"), _adj(name))
                    row = [_sym(f"{name}@{i}"), rule]
                    if not isinstance(new, np.ndarray):
                        row.append(Pre(f"{_fmt(old)} - {_fmt(lr)}·({_fmt(grad)})",
                                       rf"{_fmt(old)} - {_fmt(lr)} \cdot \left({_fmt(grad)}\right)"))
                    row.append(self.num(new))
                    rows.append(row)
                out.append(Rows(rows))
            parts.append(Part(self.p("q_step", lr=self.num(lr)), out))

        parts.append(Part(self.p("q_checks"), self.checks(solution)))
        return parts

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
                if key in table:
                    cells.append(self.num(table[key]))
                elif not adjoint and name in problem.values and t < len(problem.values[name]):
                    cells.append(self.num(problem.values[name][t]))
                else:
                    cells.append("–")
            if all(c == "–" for c in cells):
                continue
            rows.append([_adj(f"{name}[t]") if adjoint else _sym(f"{name}[t]")] + cells)
        return Table(header, rows)

    def checks(self, solution) -> list:
        checks, out = solution.checks, []
        fd = checks["finite_differences"]
        if fd["passed"]:
            out.append(self.p("fd", err=_power_of_ten_above(fd["max_abs_error"])))
        else:
            out.append(self.p("fd_failed", names=Pre(", ".join(fd.get("disagree", [])),
                                                     ", ".join(fd.get("disagree", []))),
                              err=self.num(fd["max_abs_error"], 2)))
        mf = checks.get("matrix_form")
        if mf:
            out.append(self.p("matrix_check", n=sympy.Integer(mf["compared"]),
                              err=_power_of_ten_above(mf["max_abs_error"])))
        if solution.expected:
            out.append(self.p("claims_intro", tol=self.num(self.problem.tolerance)))
            header = [self.word("claim"), self.word("claimed"), self.word("computed"), self.word("verdict")]
            rows = []
            for row in solution.expected:
                rows.append([_claim_symbol(row["key"], self.problem), self.num(row["claimed"]),
                             self.num(row["computed"]), self.word("right" if row["ok"] else "wrong")])
            out.append(Table(header, rows))
            ok = sum(r["ok"] for r in solution.expected)
            out.append(self.p("claims_summary", ok=sympy.Integer(ok), n=sympy.Integer(len(solution.expected))))
        return out


def _claim_symbol(key: str, problem):
    if key == "loss":
        return _sym("L")
    what, rest = key.split(".", 1)
    if what == "value":
        return _sym(rest)
    if what == "updated":
        return _sym(f"{rest}@1")
    return _adj(rest)


def _walk(e):
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(x.args)


AUDIENCES = ("teacher", "student")


def derivation_document(problem, lang: str | None = None, audience: str = "teacher",
                        digits: int | None = None) -> Document:
    b = _Builder(problem, lang, audience, digits)
    return Document(problem.title_in(b.lang), b.lang, problem.source_in(b.lang), b.statement(False),
                    b.symbolic_parts(), problem.conventions.index_base, problem.sequences)


def solution_document(problem, solution, lang: str | None = None, audience: str = "teacher",
                      digits: int | None = None) -> Document:
    b = _Builder(problem, lang, audience, digits)
    return Document(problem.title_in(b.lang), b.lang, problem.source_in(b.lang), b.statement(True),
                    b.numeric_parts(solution), problem.conventions.index_base, problem.sequences)
