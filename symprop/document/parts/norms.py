"""The picture of BPTT: how large ∂L/∂hₜ is at each step, on a log scale, and what it shows."""

import sympy

from ...derive.backprop import AdjointSymbol
from ...evaluate.state_norms import per_step, state_norms
from ..blocks import Para, Plot, Series, Table
from ..maths import Joined, Relation, Typeset
from .base import _sym

MAX_POINTS = 400  # points of a series a plot draws; a longer sequence at this many steps, evenly spread
TABLE_ROWS = 12  # steps the table of a text document lists


def norm_name(state: str, vector: bool) -> Typeset:
    """‖∂L/∂hₜ‖ of a vector state, |∂L/∂hₜ| of a scalar one, its name as each printer prints it."""
    h, adjoint = _sym(f"{state}[t]"), AdjointSymbol(f"{state}[t]")

    def make(printer, latex: bool) -> str:
        nabla = printer.notation.nabla  # ∇ as the source writes it; else ∂L/∂h, inline
        if latex:
            bars = (r"\lVert ", r"\rVert") if vector else (r"\lvert ", r"\rvert")
            inner = printer.doprint(adjoint) if nabla else rf"\partial L/\partial {printer.doprint(h)}"
            return f"{bars[0]}{inner}{bars[1]}"
        bar = "‖" if vector else "|"
        return f"{bar}{printer.doprint(adjoint)}{bar}"

    return Typeset(make)


def _at(t: int) -> Relation:
    return Relation(_sym("t"), sympy.Integer(t))


def sampled(steps: int, limit: int) -> list[int]:
    """At most ``limit`` steps of 1, …, T, evenly spread, the first and the last among them."""
    if steps <= limit:
        return list(range(1, steps + 1))
    return sorted({1 + round(i * (steps - 1) / (limit - 1)) for i in range(limit)})


def _then(first: Para, sep: str, second: Para) -> Para:
    return Para(first.parts + [sep] + second.parts)


class Norms:
    """The plot of BPTT, as methods of the document's builder."""

    def norms_blocks(self, step) -> list:
        """The plot of |∂L/∂hₜ| (‖∂L/∂hₜ‖) over t, the factor a step back, the zeros; [] without a state."""
        norms = state_norms(self.program, step.adjoints)
        if not norms:
            return []
        names = {s: self.norm_name(s, step) for s in norms}
        out = [self.p("norms_intro")]
        if any(n > 0 for values in norms.values() for n in values):
            out.append(self.norms_plot(norms, names))
        for state, values in norms.items():
            out += self.norms_said(names[state], values)
        if any(per_step(values) for values in norms.values()):
            out.append(self.p("norms_lesson"))
        return out

    def norm_name(self, state: str, step) -> Typeset:
        vector = any(getattr(v, "size", 1) > 1 for k, v in step.adjoints.items() if k.startswith(state + "["))
        return norm_name(state, vector)

    def norms_plot(self, norms: dict, names: dict) -> Plot:
        steps = self.problem.steps
        drawn = sampled(steps, MAX_POINTS)
        series = [Series(names[s], [(t, values[t - 1]) for t in drawn]) for s, values in norms.items()]
        label = Joined(tuple(names.values()), ", ", ", ")
        rows = sampled(steps, TABLE_ROWS)
        table = Table([self.word("t")] + list(names.values()),
                      [[sympy.Integer(t)] + [self.style.column(v[t - 1]) for v in norms.values()] for t in rows])
        sentence, clause, sep = (self.word(k) for k in ("sentence_separator", "clause_separator", "list_separator"))
        caption = self.p("norms_caption", norm=label, t=_sym("t"))
        for s, values in norms.items():
            zeros = self.norms_zeros(names[s], values)
            if zeros is not None:
                caption = _then(caption, sentence, zeros)
        lines = [self.p("norms_alt_series", norm=names[s],
                        values=Joined(tuple(self.result(v[t - 1]) for t in rows), sep, sep))
                 for s, v in norms.items()]
        told = lines[0]
        for line in lines[1:]:
            told = _then(told, clause, line)
        alt = self.p("norms_alt", steps=Joined(tuple(sympy.Integer(t) for t in rows), sep, sep), series=told)
        if len(drawn) < steps:
            every = self.p("norms_every", n=sympy.Integer(len(drawn)), T=sympy.Integer(steps))
            caption, alt = _then(caption, sentence, every), _then(alt, sentence, every)
        return Plot(series, label, caption, alt, table)

    def norms_said(self, name, values: list[float]) -> list:
        """The factor by which the size changes a step back."""
        found = per_step(values)
        if found is None:
            return [self.p("norms_all_zero", norm=name)] if not any(values) else []
        a, b, r = found
        return [self.p("norms_ratio", norm=name, a=_at(a), b=_at(b),
                       na=self.result(values[a - 1]), nb=self.result(values[b - 1]), r=self.num(r))]

    def norms_zeros(self, name, values: list[float]) -> Para | None:
        """The steps where the size is 0, which a log scale leaves out."""
        zeros = [t for t, v in enumerate(values, start=1) if v == 0]
        if not zeros:
            return None
        sep = self.word("list_separator")
        shown = tuple(sympy.Integer(t) for t in zeros[:TABLE_ROWS])
        if len(zeros) > TABLE_ROWS:
            shown += (Typeset(lambda printer, latex: r"\ldots" if latex else "…"),)
        return self.p("norms_zero", norm=name, t=Relation(_sym("t"), Joined(shown, sep, sep)))
