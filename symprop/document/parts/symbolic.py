"""The symbolic pieces: closed forms with the shared factors boxed, the algorithm, the local derivatives."""

from functools import cached_property

import sympy

from ...derive.closed_form import ClosedForms
from ...derive.mathobj import Partial, Product
from ...errors import SympropError
from ...model.functions import RULES
from ...model.spec import LOSS
from ..blocks import Rows
from ..maths import Applied, FunctionName, Order
from ..story import algorithm, story
from .base import MAX_SHOWN, MAX_STORY, _adj, _sym


class Symbolic:
    """The symbolic pieces, as methods of the document's builder."""

    @cached_property
    def story(self):
        """Seed 001's story of a chain (closed forms, boxes, d), or None past MAX_STORY."""
        if self.program.recurrent or self.matrix is not None and not self.scalar:
            return None
        s = story(self.derivation)
        return s if s is not None and s.naive <= MAX_STORY else None

    def piece_closed(self, step, solution) -> list:
        s = self.story
        if s is None:
            return []
        rows = [[_adj(gr.param.name), s.chain(gr), s.closed(gr, boxed=False)] for gr in s.gradients]
        return [self.p("closed_intro"), Rows(rows)]

    def piece_shared(self, step, solution) -> list:
        s = self.story
        if s is None:
            return []
        boxed = [[_adj(gr.param.name), s.closed(gr, boxed=True)] for gr in s.gradients]
        return [self.p("shared_intro"), Rows(boxed),
                self.p("shared_count", naive=sympy.Integer(s.naive), backprop=sympy.Integer(s.backprop),
                       m=sympy.Integer(s.depth), naive_order=Order(_sym("m") ** 2), order=Order(_sym("m")))]

    def piece_algorithm(self, step, solution) -> list:
        s = self.story
        if s is None:
            return []
        rows, dsym = [], _sym("d")
        for st in algorithm(self.derivation, s):
            if st.kind == "d":
                first = not rows
                chain = st.chain if first else Product(dsym, *st.chain.args)
                value = st.value if first else Product(dsym, *st.value.args)
                rows.append([dsym, chain, value])
            else:
                value = dsym if st.value == 1 else Product(dsym, st.value)
                rows.append([_adj(st.target.name), Product(dsym, st.chain), value])
        return [self.p("algorithm_intro", d=dsym), Rows(rows)]

    def piece_composite(self, step, solution) -> list:
        """The network as one composite function: the nodes the loss reads, written out."""
        if self.program.recurrent or not self.scalar:
            return []
        d = self.derivation
        forms = ClosedForms(d, limit=MAX_SHOWN)
        g = self.graph
        nodes = {n.symbol for n in g.nodes}
        rows = []
        for s in sorted(d.local[g.loss], key=lambda x: x.name):
            if s in nodes:
                closed = forms.of_value(s)
                if closed is not None and closed != s:
                    rows.append([s, closed])
        if not rows:
            return []
        loss = g.nodes[-1].expr
        return [self.p("composite_intro"), Rows(rows + [[_sym(LOSS), loss, loss.xreplace({r[0]: r[1] for r in rows})]])]

    def piece_update_rule(self, step, solution) -> list:
        eta = _sym("eta")
        rows = [[_sym(f"{p}@1"), _sym(p) - Product(eta, _adj(p))] for p in self.problem.params]
        return [self.p("update_rule_intro", eta=eta), Rows(rows)]

    def piece_local(self, step, solution) -> list:
        if self.program.recurrent:
            return self.cell_local_rows()
        if not self.scalar:
            return []
        d, g = self.derivation, self.graph
        rows = []
        params = set(g.param_symbols())
        nodes = {n.symbol for n in g.nodes}
        for n in g.nodes:
            for parent, local in d.local[n.symbol].items():
                if parent in params or parent in nodes:  # not the edges into inputs
                    rows.append([Partial(n.symbol, parent), local])
        out = [self.p("local_intro"), Rows(rows)]
        figure = self.figure(grad=True)
        return out + ([figure] if figure is not None else [])

    def activation(self, f: str, g: str) -> list:
        """The case f = g (sigmoid, tanh…): g′ and each local derivative through the node's output."""
        if not self.scalar or self.program.recurrent:
            return []
        z, y, rule = _sym("z"), _sym("y"), RULES[g]
        if rule.inputs != 1:
            raise SympropError(f"document.parts: 'activation:{f}={g}': {g}() takes two arguments, {f} one",
                               where=self.problem.origin)
        gz = rule.of(z)  # a parameter (leaky_relu's slope) at its default
        through_output = rule.partials([z], y)[0]
        if isinstance(through_output, sympy.Mul):  # σ·(1 − σ): the function's value first
            through_output = Product(*sorted(through_output.args, key=lambda a: a != y))
        shown = _sym("sigma") if g == "sigmoid" else FunctionName(g)
        rows = [[Applied(f, "z"), gz.rewrite(sympy.exp) if g == "sigmoid" else gz],
                [Applied(f, "z", prime=True), through_output.xreplace({y: gz})]]
        out = [self.p("activation_intro", f=_sym(f), g=shown), Rows(rows)]
        locals_ = []
        for n in self.graph.nodes:
            e = n.expr
            if isinstance(e, sympy.Function) and type(e).__name__ == f and len(e.args) == 1:
                locals_.append([Partial(n.symbol, e.args[0]), rule.partials(e.args, n.symbol)[0]])
        if locals_:
            out += [self.p("activation_nodes"), Rows(locals_)]
        return out

    def piece_entries(self, step, solution) -> list:
        """Each entry of every matrix parameter, as the source's blanks ask."""
        if not self.scalar or self.program.recurrent:
            return []
        d, g = self.derivation, self.graph
        numbers = self.numbers(step) if step is not None else None
        rows = []
        for q in g.params:
            if q.shape is None or q.shape == (1, 1):
                continue
            for sym in q.symbols():
                gradient = _adj(sym.name)
                rows.append(self.worked(gradient, d.gradients[sym], numbers,
                                        numbers.of(gradient) if numbers is not None else None))
        if not rows:
            return []
        return [self.p("entries_intro"), Rows(rows)]
