"""The picture of BPTT: how large ∂L/∂hₜ is at each step, on a log scale, and what it shows."""

import sympy

from ...evaluate.state_norms import per_step, state_norms
from ..blocks import Para, Plot, Series, Table, plain
from ..numbers import Pre
from ..printing import unicode_name
from ..render.latex_printer import latex_name

MAX_POINTS = 400  # points of a series a plot draws; a longer sequence at this many steps, evenly spread
TABLE_ROWS = 12  # steps the table of a text document lists


def norm_name(state: str, vector: bool, base: int = 0, sequences=frozenset()) -> Pre:
    """‖∂L/∂hₜ‖ of a vector state, |∂L/∂hₜ| of a scalar one."""
    text, tex = unicode_name(f"{state}[t]", base, sequences), latex_name(f"{state}[t]", base, sequences)
    bars = ("‖", "‖", r"\lVert ", r"\rVert") if vector else ("|", "|", r"\lvert ", r"\rvert")
    return Pre(f"{bars[0]}∂L/∂{text}{bars[1]}", rf"{bars[2]}\partial L/\partial {tex}{bars[3]}")


def sampled(steps: int, limit: int) -> list[int]:
    """At most ``limit`` steps of 1, …, T, evenly spread, the first and the last among them."""
    if steps <= limit:
        return list(range(1, steps + 1))
    return sorted({1 + round(i * (steps - 1) / (limit - 1)) for i in range(limit)})


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

    def norm_name(self, state: str, step) -> Pre:
        vector = any(getattr(v, "size", 1) > 1 for k, v in step.adjoints.items() if k.startswith(state + "["))
        return norm_name(state, vector, self.problem.conventions.index_base, self.problem.sequences)

    def norms_plot(self, norms: dict, names: dict) -> Plot:
        steps = self.problem.steps
        drawn = sampled(steps, MAX_POINTS)
        series = [Series(names[s], [(t, values[t - 1]) for t in drawn]) for s, values in norms.items()]
        label = Pre(", ".join(n.text for n in names.values()), ", ".join(n.latex for n in names.values()))
        rows = sampled(steps, TABLE_ROWS)
        table = Table([self.word("t")] + list(names.values()),
                      [[sympy.Integer(t)] + [self.style.column(v[t - 1]) for v in norms.values()] for t in rows])
        caption = self.p("norms_caption", norm=label, t=Pre("t", "t"))
        for s, values in norms.items():
            zeros = self.norms_zeros(names[s], values)
            if zeros is not None:
                caption = Para(caption.parts + [self.word("sentence_separator")] + zeros.parts)
        sep = self.word("list_separator")
        lines = [self.p("norms_alt_series", norm=names[s].text,
                        values=sep.join(self.num(v[t - 1]).text() for t in rows))
                 for s, v in norms.items()]
        alt = plain(self.p("norms_alt", steps=sep.join(map(str, rows)),
                           series=self.word("clause_separator").join(plain(x) for x in lines)))
        if len(drawn) < steps:
            every = self.p("norms_every", n=str(len(drawn)), T=str(steps))
            caption = Para(caption.parts + [self.word("sentence_separator")] + every.parts)
            alt += self.word("sentence_separator") + plain(every)
        return Plot(series, label, caption, alt, table)

    def norms_said(self, name: Pre, values: list[float]) -> list:
        """The factor by which the size changes a step back."""
        found = per_step(values)
        if found is None:
            return [self.p("norms_all_zero", norm=name)] if not any(values) else []
        a, b, r = found
        return [self.p("norms_ratio", norm=name, a=Pre(f"t = {a}", f"t = {a}"), b=Pre(f"t = {b}", f"t = {b}"),
                       na=self.num(values[a - 1]), nb=self.num(values[b - 1]), r=self.num(r))]

    def norms_zeros(self, name: Pre, values: list[float]) -> Para | None:
        """The steps where the size is 0, which a log scale leaves out."""
        zeros = [t for t, v in enumerate(values, start=1) if v == 0]
        if not zeros:
            return None
        shown = zeros[:TABLE_ROWS]
        sep, more = self.word("list_separator"), len(shown) < len(zeros)
        steps = Pre("t = " + sep.join(map(str, shown)) + ("…" if more else ""),
                    "t = " + sep.join(map(str, shown)) + (r"\ldots" if more else ""))
        return self.p("norms_zero", norm=name, t=steps)
