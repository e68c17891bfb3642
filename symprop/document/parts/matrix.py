"""The matrix pieces: adjoints and gradients of whole vectors and matrices, and through time (BPTT, unrolled)."""

from dataclasses import replace

import sympy

from ...derive.bptt import bptt
from ...derive.closed_form import ClosedForms
from ...derive.mathobj import Partial, Sum
from ...derive.sweep import FormulaKind, through_time
from ..blocks import Rows
from ..formulas import formula_rows, latex_style, text_style
from ..maths import Joined, Order, PlusPartial, Typeset, UnrolledSum
from .base import (
    MAX_EXPANDED,
    MAX_SHOWN,
    _adj,
    _join,
    _names,
    _sym,
    backward_range,
    forward_range,
    last_step,
)


class Matrix:
    """The matrix pieces, as methods of the document's builder."""

    def piece_unrolled(self, step, solution) -> list:
        """∂L_t/∂p written out over the steps, for a small t, and the Σ Π form."""
        return self.unrolled()

    def piece_vectorized(self, step, solution) -> list:
        return [self.p("vectorized")]

    def piece_bptt(self, step, solution) -> list:
        return self.bptt()

    def piece_matrix(self, step, solution) -> list:
        return self.matrix_rows() if self.matrix is not None else []

    def adjoint_rows(self) -> list:
        d, g = self.derivation, self.graph
        forms = ClosedForms(d, limit=MAX_SHOWN)
        rows = [[_adj(n.symbol.name), d.adjoints[n.symbol]] for n in reversed(g.nodes) if n.symbol != g.loss]
        grads, nested = [], False
        for p in g.param_symbols():
            closed = forms.of_adjoint(p)
            if closed is not None and len(self.printers()[0].doprint(closed)) > MAX_EXPANDED:
                closed, nested = None, True  # the nested form above says it in a line
            grads.append([_adj(p.name), d.gradients[p]] + ([closed] if closed is not None else []))
        out = [self.p("adjoints_intro"), Rows(rows), self.p("gradients_from_adjoints"), Rows(grads)]
        return out + ([self.p("closed_nested", n=sympy.Integer(MAX_EXPANDED))] if nested else [])

    def formula_rows(self, form) -> Rows:
        """The matrix form's formulas, a row each: each cell set by the formula printer with the renderer's printer."""
        notation = self.problem.notation
        text_rows = formula_rows(form, self.name_of("text"), self.printers()[0], text_style(notation))  # shape, notes
        printed = {}

        def cell(i: int, j: int) -> Typeset:
            def make(printer, latex: bool) -> str:
                if (printer, latex) not in printed:
                    printed[printer, latex] = formula_rows(form, self.name_of("latex" if latex else "text"), printer,
                                                          latex_style(notation) if latex else text_style(notation))
                lhs, terms, _ = printed[printer, latex][i]
                return lhs if j == 0 else terms[j - 1]
            return Typeset(make)

        rows = [[cell(i, j) for j in range(len(ts) + 1)] for i, (_, ts, _) in enumerate(text_rows)]
        return Rows(rows, [self.word(note) if note else "" for _, _, note in text_rows])

    def matrix_rows(self) -> list:

        intro = "matrix_intro_rnn" if self.matrix.recurrent else "matrix_intro"
        notation = self.problem.notation
        out = [self.p(intro, **(backward_range(notation) if self.matrix.recurrent else {})),
               self.formula_rows(self.matrix)]
        # The boundary: at t = T the terms from step T + 1 are absent (∇h(τ) L = Vᵀ ∇o(τ) L).
        last = [replace(f, terms=[t for t in f.terms if not t.later]) for f in self.matrix.formulas
                if f.kind == FormulaKind.ADJ and f.step == 0 and any(t.later for t in f.terms)]
        if last:
            end = last_step(notation)
            out += [self.p("matrix_boundary", last=sympy.Eq(_sym("t"), end), next=Joined((end, sympy.Integer(1)))),
                    self.formula_rows(replace(self.matrix, formulas=last))]
        if self.matrix.recurrent and "bptt" not in self.shown:  # an initial state's gradient, said once
            starts = set(self.problem.initial_params.values())
            out += self.through_time([p for p in through_time(self.program) if p.name in starts])
        return out

    def through_time(self, params) -> list:
        """Which parameters need the sum back through time, and why: one sentence a group."""
        groups: dict[tuple, list] = {}
        starts = {q: h for h, q in self.problem.initial_params.items()}
        for p in params:
            kind = "computed" if p.computed else "yes" if p.through_time else "start" if p.name in starts else "no"
            groups.setdefault((kind, p.states[0] if kind == "yes" else None), []).append(p.name)
        out = []
        for (kind, state), names in groups.items():
            many = "_many" if len(names) > 1 else ""
            ps = _names(names, self)
            if kind == "yes":
                out.append(self.p("bptt_yes" + many, p=ps, h=_sym(f"{state}[t]"), hprev=_sym(f"{state}[t-1]")))
            elif kind == "start":
                h = starts[names[0]]
                out.append(self.p("bptt_start", p=ps, h=_sym(h), h1=_sym(f"{h}[1]")))
            else:
                out.append(self.p(f"bptt_{kind}" + many, p=ps))
        return out

    def cell_local_rows(self) -> list:
        """The derivative along each edge of the cell (scalar cells)."""
        if self.matrix is not None:
            return []
        d = self.derivation
        cell = self.graph.cell
        rows = []
        for n in cell.nodes:
            for parent, local in d.cell_local[n.symbol].items():
                if parent in cell.inputs and cell.inputs[parent][0] not in cell.states:
                    continue
                rows.append([Partial(n.symbol, parent), local])
        return [self.p("local_intro"), Rows(rows)]

    def bptt(self) -> list:
        T = _sym("T")
        cost = self.p("bptt_cost", order=Order(last_step(self.problem.notation)))
        if self.matrix is not None:  # the matrix form says it for whole vectors
            return self.through_time(through_time(self.program)) + [cost]
        d = self.derivation
        b = bptt(d)
        out = self.cell_local_rows()
        out.append(self.p("bptt_intro", **backward_range(self.problem.notation)))
        rows = []
        for r in b.recursions:
            rhs = r.same_step if r.next_step == 0 else r.same_step + r.next_step
            rows.append([_adj(r.node.name), rhs])
        out.append(Rows(rows))
        for state in b.states:
            out.append(self.p("bptt_words", h=_sym(f"{state}[t]"), hnext=_sym(f"{state}[t+1]"), t=_sym("t")))
            if state in b.final:
                out.append(self.p("bptt_final", h=_adj(f"{state}[{b.steps}]"), extra=b.final[state]))
        out.append(self.p("bptt_grads", range=forward_range(self.problem.notation)))
        t = _sym("t")
        rows = []
        for p in b.params:
            total = Sum(p.adjoint_form, t, sympy.Integer(1), T) if p.adjoint_form != 0 else None
            rest = p.outside + p.start  # the lines outside the loop; for h₀, ∂L/∂h₁ carried one step back
            if total is None and rest == 0:
                total = sympy.S.Zero
            rhs = total if rest == 0 else (rest if total is None else total + rest)
            rows.append([_adj(p.name), rhs])
        out.append(Rows(rows))
        return out + self.through_time(b.params) + [cost]

    def unrolled(self) -> list:
        """∂Lₖ/∂p over the steps for k = min(3, T), term by term, and the general Σ Π form."""
        if not self.program.recurrent:
            return []
        params = [p for p in through_time(self.program) if p.through_time and not p.computed]
        if not params:
            return []
        states = sorted(self.program.states)
        if len(states) > 1:  # a product along one state would drop the paths through the others
            return [self.p("unrolled_states", states=_names([f"{s}[t]" for s in states], self))]
        state = params[0].states[0]
        k = min(3, self.problem.steps)
        L = _sym(f"L[{k}]")
        out = [self.p("unrolled_intro", L=L, k=sympy.Integer(k), h=_sym(f"{state}[t]"), hprev=_sym(f"{state}[t-1]"))]
        rows = []
        for p in params:
            if state not in p.states:
                continue
            terms = []
            for j in range(k, 0, -1):
                chain = [Partial(L, _sym(f"{state}[{k}]"))]
                chain += [Partial(_sym(f"{state}[{i}]"), _sym(f"{state}[{i - 1}]")) for i in range(k, j, -1)]
                printed = [self.pre(c) for c in chain]
                printed.append(PlusPartial(_sym(f"{state}[{j}]"), _sym(p.name)))
                terms.append(_join(printed, "·", r" \cdot "))
            rows.append([Partial(L, _sym(p.name)), _join(terms)])
        out.append(Rows(rows))
        out += [self.p("unrolled_general"), Rows([[self.generic_unrolled(state)]])]
        return out

    def generic_unrolled(self, state: str) -> UnrolledSum:
        """∂Lₜ/∂p = Σₖ ∂Lₜ/∂hₜ · (Π ∂hᵢ/∂hᵢ₋₁) · ∂⁺hₖ/∂p, in the notation's names (set by the printers)."""
        return UnrolledSum(state, self.problem.notation.superscript)
