"""A worked solution as a format-free document.

The engine's derivation and numbers become lettered questions, each with its
solution: prose (by key, from ``strings``), rows of equations (SymPy objects,
numbers, or matrix formulas already printed), and tables.  One renderer per
format turns it into text, LaTeX, MyST or Markdown.
"""

import re
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import sympy
from sympy import Symbol

from ..derive.backprop import AdjointSymbol, derivation_of
from ..derive.closed_form import ClosedForms
from ..derive.graph import graph_of
from ..derive.mathobj import Partial, Product, Sum
from ..derive.program import has_arrays, program_of, walk
from ..derive.sweep import matrix_form_of, through_time
from ..errors import SympropError
from ..evaluate.scalar import MAX_SCALAR_TERMS, scalar_terms
from ..model.reading import in_language
from .numbers import (  # noqa: F401
    MAX_ENTRIES_SHOWN,
    Number,
    Pre,
    Style,
    _fmt,
    _number,
    _power_of_ten_above,
    _sci_latex,
    _sci_text,
    as_written,
    claim_cells,
    disagreeing,
    factor,
    paren,
    rule_cell,
)
from .render.latex_printer import function_name
from .strings import phrase


class UserText(str):
    """Words the spec gives (its statement, a part's question): text, not markup.
    Each renderer escapes them for its format; the title and the source, always
    the spec's, too."""


@dataclass
class Para:
    parts: list  # str (UserText: the spec's words), or mathematics (a SymPy object, a number, a Pre)


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
    letter: str | None = None  # the source's letter; None: by position


@dataclass
class Section:
    """A titled section after the parts: the teacher's appendix."""

    title: str
    blocks: list


@dataclass
class Document:
    title: str  # the spec's words, as the source is: each renderer escapes them
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
            value = math[piece[1:-1]]
            parts.extend(value.parts if isinstance(value, Para) else [value])
        elif piece:
            parts.append(piece)
    return Para(parts)


def _sym(key: str) -> Symbol:
    return Symbol(key, real=True)


def _adj(key: str) -> AdjointSymbol:
    return AdjointSymbol(key)


SHOW_STEPS = 12  # a recurrent model longer than this is shown by its cell only
FORWARD_RANGE = Pre("t = 1, …, T", r"t = 1, \ldots, T")
BACKWARD_RANGE = {"range": Pre("t = T, …, 1", r"t = T, \ldots, 1"), "next": Pre("t + 1", "t + 1"),
                  "last": Pre("t = T", "t = T")}
SHOW_WORK_STEPS = 4  # a scalar cell this short shows the arithmetic of every step
MAX_STORY = 200  # local derivatives in all closed forms together; past it, the adjoint form
MAX_SHOWN = 300  # nodes of a closed form a document prints
MAX_FIGURE = 40  # vertices of a computational graph a document draws


class _Builder:
    def __init__(self, problem, lang: str | None, audience: str, style: Style):
        self.problem = problem
        self.lang = lang or problem.lang
        self.audience = audience
        self.style = style
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
        """A number as this document prints it (--digits, exact, --fractions)."""
        return self.style.number(value)

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
            out.append(self.p("cell_intro", range=FORWARD_RANGE, T=_steps(problem)))
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
                    out.append(self.p("initial", h0=self.initial_state(key, q.value)))
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
            out.append(self.p("cell_intro", range=FORWARD_RANGE, T=_steps(problem)))
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
                out.append(self.p("initial", h0=self.initial_state(key, problem.initial[leaf.name], zero=True)))
        relu = any(e.op == "fn" and e.name == "relu" for line in program.lines() for e in walk(line.expr))
        return out + self.given(solving, relu)

    def initial_state(self, key: str, value, zero: bool = False) -> Pre:
        """h₀ = 0.5, as this document prints numbers (a large state by its
        shape); with ``zero``, a state of zeros as 0."""
        array = np.array(value.tolist() if isinstance(value, sympy.MatrixBase) else value, dtype=float)
        n = self.num(0.0 if zero and not np.any(array) else array if array.ndim else float(array))
        return Pre(f"{self.name_of('text')(key)} = {n.text()}", f"{self.name_of('latex')(key)} = {n.latex()}")

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
                out.append(self.p("given_lr", lr=Pre(f"η = {self.num(problem.training.lr).text()}",
                                                      rf"\eta = {self.num(problem.training.lr).latex()}")))
        if problem.conventions.index_base:
            out.append(self.p("index_base", base=sympy.Integer(problem.conventions.index_base)))
        if relu:
            from ..model.functions import relu_prime

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
        from .pictures import picture, to_dot, to_mermaid, to_tikz

        pic = picture(self.problem, grad=grad, lang=self.lang)
        if len(pic.vertices) > MAX_FIGURE:
            return None
        return Figure(to_dot(pic), to_tikz(pic), to_mermaid(pic))

    # The teacher's appendix ----------------------------------------------------------------

    def appendix(self, solution) -> list[Section]:
        if self.audience != "teacher":
            return []
        sections = [Section(self.word("checks"), self.checks(solution))] if solution is not None else []
        errata = (self.errata(solution) if solution is not None else []) + self.formula_errata(solution)
        if errata:
            sections.append(Section(self.word("claims"), errata))
        return sections

    def formula_errata(self, solution) -> list:
        """The source's formulas and statements, each beside the right one."""
        from ..evaluate.claims import formula_claims

        claims = solution.formula_claims if solution is not None else formula_claims(self.problem)
        out = []
        for c in claims:
            quoted = Pre(str(c.claimed), _texttt(str(c.claimed))) if c.kind != "through_time" else None
            verdict = self.word("right" if c.ok else "wrong")
            if c.kind == "through_time":
                said = self.word("claim_bptt_yes" if c.claimed else "claim_bptt_no")
                out.append(self.p("erratum_statement", p=_sym(c.target), said=said, verdict=verdict))
                if not c.ok:
                    out += self.through_time([p for p in through_time(self.program) if p.name == c.target])
                continue
            name = c.target.split("[")[0]
            step = "[t]" if self.program.recurrent and c.step is None and name in self.program.cell_names() else (
                f"[{c.step}]" if c.step is not None else "")
            lhs = _adj(name + step)
            if c.ok:
                out.append(self.p("erratum_formula_ok", lhs=lhs, claimed=quoted, verdict=verdict))
            else:
                reason = self.reason(c)
                out.append(self.p("erratum_formula", lhs=lhs, claimed=quoted, verdict=verdict,
                                  reason=reason))
            right = self.right_formula(c)
            if right is not None and not c.ok:
                out += [self.p("erratum_right"), Rows([[lhs, right]])]
        return out

    def reason(self, c) -> Para:
        """Why a claimed formula is wrong, in the document's language (from the claim's verdict)."""
        if c.why in ("product", "not_defined"):
            if not c.detail:
                return self.p("reason_not_defined_plain")
            latex = c.detail.replace("×", r"\times ").replace("·", r" \cdot ").replace("⊙", r" \odot ")
            return self.p(f"reason_{c.why}", shapes=Pre(c.detail, latex.replace("−", "-")))
        if c.why == "factor":
            return self.p("reason_factor", k=Pre(c.detail, c.detail))
        return self.p(f"reason_{c.why}" if c.why in ("sign", "zero", "transpose", "not_finite") else "reason_differs")

    def right_formula(self, c):
        """symprop's own formula for what a claim is about."""
        if self.matrix is not None and c.kind == "adjoint":
            name = c.target.split("[")[0]
            chosen = [f for f in self.matrix.formulas if f.kind == "adj" and f.name == name]
            if chosen:
                return self.formula_rows(self.matrix).rows[self.matrix.formulas.index(chosen[0])][-1]
            return None
        if c.kind == "grad" and self.scalar and not self.program.recurrent:
            s = self.story
            if s is not None:
                for gr in s.gradients:
                    if gr.param.name == c.target:
                        return s.closed(gr, boxed=False)
            return self.derivation.gradients.get(_sym(c.target))
        return None

    # Parts ------------------------------------------------------------------------------

    def default_pieces(self, numeric: bool) -> list[str]:
        """symprop's own order, when the spec names no parts."""
        pieces = ["forward"] if numeric else []
        if self.program.recurrent:
            pieces += ["bptt", "unrolled"]
        elif self.matrix is None:
            if self.story is not None:
                pieces += ["closed", "shared", "algorithm"]
            elif not numeric:
                pieces.append("backward")
        if self.matrix is not None:
            pieces.append("matrix")
        if numeric:
            pieces += ["backward", "gradients"]
            if self.problem.training.lr is not None:
                pieces.append("step")
        return pieces

    def parts(self, solution) -> list[Part]:
        from ..model.spec import PartSpec

        specs = self.problem.parts or tuple(PartSpec((piece,)) for piece in self.default_pieces(solution is not None))
        letters = self.word("letters")
        parts, used = [], 0
        for spec in specs:
            blocks = []
            for piece in spec.show:
                blocks += self.piece(piece, solution)
            letter = _letter_in(spec.letter, self.lang) if spec.letter else letters[min(used, len(letters) - 1)]
            used = letters.index(letter) + 1 if letter in letters else used + 1
            if not blocks:
                continue
            question = in_language(spec.question, self.lang) if spec.question else None
            if question is None:
                question = Para([x for piece in spec.show for x in self.question(piece).parts + [" "]][:-1])
            else:
                question = Para([UserText(question)])
            parts.append(Part(question, blocks, letter))
        return parts

    def question(self, piece: str) -> Para:
        name, _, arg = piece.partition(":")
        if name == "step":
            return self.p("q_step", lr=self.num(self.problem.training.lr or 0))
        if name == "matrix" and not self.program.recurrent and self.matrix is not None and self.scalar is False:
            return self.p("q_matrix_first")
        if name == "activation":
            f, _, g = arg.partition("=")
            return self.p("q_activation", f=_sym(f.strip()), g=Pre(g.strip(), function_name(g.strip())))
        return self.p("q_" + name)

    def piece(self, piece: str, solution) -> list:
        """The blocks of one piece; [] when this problem has none of it."""
        name, _, arg = piece.partition(":")
        numeric = solution is not None
        if name in ("forward", "gradients", "step") and not numeric:
            return []
        if name == "step" and self.problem.training.lr is None:
            return []
        if name == "activation":
            return self.activation(*[x.strip() for x in arg.split("=")])
        method = getattr(self, "piece_" + name)
        return method(solution.first if numeric else None, solution)

    # Symbolic pieces ------------------------------------------------------------------------

    @cached_property
    def story(self):
        """Seed 001's story of a chain (closed forms, boxes, d), or None past MAX_STORY."""
        from .story import story

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
                       m=sympy.Integer(s.depth), naive_order=Pre("O(m²)", "O(m^2)"), order=Pre("O(m)", "O(m)"))]

    def piece_algorithm(self, step, solution) -> list:
        from .story import algorithm

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
        return [self.p("composite_intro"), Rows(rows + [[_sym("L"), loss, loss.xreplace({r[0]: r[1] for r in rows})]])]

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
        from ..model.functions import RULES

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
        shown = Pre("σ", r"\sigma") if g == "sigmoid" else Pre(g, function_name(g))
        rows = [[Pre(f"{f}(z)", f"{f}(z)"), gz.rewrite(sympy.exp) if g == "sigmoid" else gz],
                [Pre(f"{f}′(z)", f"{f}'(z)"), through_output.xreplace({y: gz})]]
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
        grads = []
        for p in g.param_symbols():
            closed = forms.of_adjoint(p)
            grads.append([_adj(p.name), d.gradients[p]] + ([closed] if closed is not None else []))
        return [self.p("adjoints_intro"), Rows(rows), self.p("gradients_from_adjoints"), Rows(grads)]

    def formula_rows(self, form) -> Rows:
        from .formulas import LATEX, TEXT, formula_rows
        from .printing import TextPrinter
        from .render.latex_printer import SympropLatexPrinter

        base, seq = self.problem.conventions.index_base, self.problem.sequences
        text_rows = formula_rows(form, self.name_of("text"), TextPrinter(base, seq), TEXT)
        latex_rows = formula_rows(form, self.name_of("latex"), SympropLatexPrinter(base, seq), LATEX)
        rows = []
        for (tl, ts, _), (ll, ls, _) in zip(text_rows, latex_rows):
            rows.append([Pre(tl, ll)] + [Pre(a, b) for a, b in zip(ts, ls)])
        return Rows(rows, [self.word(note) if note else "" for _, _, note in text_rows])

    def matrix_rows(self) -> list:
        from dataclasses import replace

        intro = "matrix_intro_rnn" if self.matrix.recurrent else "matrix_intro"
        out = [self.p(intro, **(BACKWARD_RANGE if self.matrix.recurrent else {})), self.formula_rows(self.matrix)]
        # The boundary: at t = T the terms from step T + 1 are absent (∇h(τ) L = Vᵀ ∇o(τ) L).
        last = [replace(f, terms=[t for t in f.terms if not t.later]) for f in self.matrix.formulas
                if f.kind == "adj" and f.step == 0 and any(t.later for t in f.terms)]
        if last:
            out += [self.p("matrix_boundary", last=Pre("t = T", "t = T"), next=Pre("T + 1", "T + 1")),
                    self.formula_rows(replace(self.matrix, formulas=last))]
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
        from ..derive.bptt import bptt

        T = _sym("T")
        cost = self.p("bptt_cost", order=Pre("O(T)", "O(T)"))
        if self.matrix is not None:  # the matrix form says it for whole vectors
            return self.through_time(through_time(self.program)) + [cost]
        d = self.derivation
        b = bptt(d)
        out = self.cell_local_rows()
        out.append(self.p("bptt_intro", **BACKWARD_RANGE))
        rows = []
        for r in b.recursions:
            rhs = r.same_step if r.next_step == 0 else r.same_step + r.next_step
            rows.append([_adj(r.node.name), rhs])
        out.append(Rows(rows))
        for state in b.states:
            out.append(self.p("bptt_words", h=_sym(f"{state}[t]"), hnext=_sym(f"{state}[t+1]"), t=_sym("t")))
            if state in b.final:
                out.append(self.p("bptt_final", h=_adj(f"{state}[{b.steps}]"), extra=b.final[state]))
        out.append(self.p("bptt_grads", range=FORWARD_RANGE))
        t = _sym("t")
        rows = []
        for p in b.params:
            total = Sum(p.adjoint_form, t, sympy.Integer(1), T) if p.adjoint_form != 0 else None
            if total is None and p.outside == 0:
                total = sympy.S.Zero
            rhs = total if p.outside == 0 else (p.outside if total is None else total + p.outside)
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
                printed.append(Pre(f"∂⁺{self.name_of('text')(f'{state}[{j}]')}/∂{self.name_of('text')(p.name)}",
                                   rf"\frac{{\partial^{{+}} {self.name_of('latex')(f'{state}[{j}]')}}}"
                                   rf"{{\partial {self.name_of('latex')(p.name)}}}"))
                terms.append(_join(printed, "·", r" \cdot "))
            rows.append([Partial(L, _sym(p.name)), _join(terms)])
        out.append(Rows(rows))
        text_h, latex_h = state + "ᵢ", state + "_{i}"
        generic = Pre(
            f"∂Lₜ/∂p = Σ_(k=1..t) ∂Lₜ/∂{state}ₜ · (Π_(i=k+1..t) ∂{text_h}/∂{state}ᵢ₋₁) · ∂⁺{state}ₖ/∂p",
            rf"\frac{{\partial L_{{t}}}}{{\partial p}} = \sum_{{k=1}}^{{t}} \frac{{\partial L_{{t}}}}"
            rf"{{\partial {state}_{{t}}}} \left( \prod_{{i=k+1}}^{{t}} \frac{{\partial {latex_h}}}"
            rf"{{\partial {state}_{{i-1}}}} \right) \frac{{\partial^{{+}} {state}_{{k}}}}{{\partial p}}",
        )
        out += [self.p("unrolled_general"), Rows([[generic]])]
        return out

    # Numbers -------------------------------------------------------------------------

    def pre(self, expr) -> Pre:
        """Mathematics printed once for text and once for LaTeX."""
        from .printing import TextPrinter
        from .render.latex_printer import SympropLatexPrinter

        base, seq = self.problem.conventions.index_base, self.problem.sequences
        return Pre(TextPrinter(base, seq).doprint(expr), SympropLatexPrinter(base, seq).doprint(expr))

    def joined(self, terms) -> Pre:
        """Terms in the order given (SymPy's Add would sort them)."""
        return _join([self.pre(t) for t in terms])

    def numbers(self, step, t: int | None = None):
        from .working import Numbers

        n = Numbers(self.graph, step, self.problem)
        return n if t is None else n.at(t)

    def worked(self, lhs, expr, numbers, value) -> list:
        """lhs = formula = the formula with numbers = value (the middle ones when they say something)."""
        from .working import substituted

        row = [lhs]
        if expr is not None and expr != lhs:
            row.append(expr)
            if numbers is not None:
                middle = substituted(expr, numbers, self.style, self.problem)
                if middle is not None:
                    row.append(middle)
        if value is not None:
            row.append(self.num(value))
        return row

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
            losses = [_sym(f"L[{t}]") for t in range(1, problem.steps + 1)]
            have = all(f"L[{t}]" in step.values for t in range(1, problem.steps + 1))
            total = self.joined(losses) if problem.steps <= SHOW_STEPS and have else None
            row = [_sym("L")]
            if total is not None:
                sums = [self.num(step.values[f"L[{t}]"]) for t in range(1, problem.steps + 1)]
                row += [total, _join([Pre(paren(x.text()), paren(x.latex(), True)) for x in sums])]
                if problem.reduce == "mean":
                    row = [_sym("L")]
            row.append(self.num(step.loss))
            return out + [self.p("loss_value"), Rows([row])]
        numbers = self.numbers(step) if self.scalar else None
        rows = []
        for key, value in step.values.items():
            if not isinstance(value, np.ndarray) and self.scalar:
                node = next(n for n in self.graph.nodes if n.key == key)
                rows.append(self.worked(_sym(key), node.expr, numbers, value))
            else:
                rows.append([_sym(key), self.num(value)])
        out.append(Rows(rows))
        loss = self.graph.nodes[-1] if self.scalar else None
        row = self.worked(_sym("L"), loss.expr, numbers, step.loss) if loss is not None else [_sym("L"), self.num(step.loss)]
        return out + [self.p("loss_value"), Rows([row])]

    def cell_rows(self, step, nodes, adjoint: bool = False) -> list:
        """Each cell line at t = 1, …, T (backwards for adjoints), with its numbers."""
        from ..derive.bptt import bptt

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
                name = r.node.name.split("[")[0]
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
            return out
        numbers = self.numbers(step) if self.matrix is None else None
        rows = []
        for key, value in reversed(step.adjoints.items()):
            if not isinstance(value, np.ndarray) and self.matrix is None:
                q = self.graph.quantities[key]
                rows.append(self.worked(_adj(key), self.derivation.adjoints[q.value], numbers, value))
            else:
                rows.append([_adj(key), self.num(value)])
        out.append(Rows(rows))
        return out

    def piece_gradients(self, step, solution) -> list:
        problem = self.problem
        worked = self.scalar and (not self.program.recurrent or self.small_cell())
        numbers = self.numbers(step) if worked else None
        rows = []
        for name, value in step.gradients.items():
            q = self.graph.quantities[name] if worked else None
            if q is not None and not isinstance(value, np.ndarray):
                rows.append(self.worked(_adj(name), self.derivation.gradients[q.value], numbers, value))
            else:
                rows.append([_adj(name), self.num(value)])
        out = [self.p("gradients_intro")] if worked else []
        out.append(Rows(rows))
        if step.kinks:
            value = problem.conventions.relu_grad_at_zero
            key = "kinks" if value == 0 else "kinks_other"
            out.append(self.p(key, nodes=_names(step.kinks, self), value=self.num(value)))
        return out

    def piece_step(self, step, solution) -> list:
        problem = self.problem
        lr = problem.training.lr
        out = [self.p("step_intro", lr=self.num(lr))]
        for i, st in enumerate(solution.steps, start=1):
            if len(solution.steps) > 1:
                out.append(self.p("batch_step", i=sympy.Integer(i), loss=self.num(st.loss)))
            rows = []
            for name, new in st.updated.items():
                grad, old = st.gradients[name], st.leaves[name]
                rule = _sym(name) - Product(_sym("eta"), _adj(name))
                row = [_sym(f"{name}@{i}"), rule]
                if not isinstance(new, np.ndarray):
                    o, r, gr = self.num(old), self.num(lr), self.num(grad)
                    row.append(Pre(f"{o.text()} - {factor(r.text())}·{factor(gr.text())}",
                                   rf"{o.latex()} - {r.latex()} \cdot {paren(gr.latex(), True)}"))
                row.append(self.num(new))
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
                if key in table:
                    cells.append(self.num(table[key]))
                elif not adjoint and name in problem.values and t in self.used_steps(name):
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
            if fd.get("directions"):
                out.append(self.p("fd_directions"))
        else:
            out.append(self.p("fd_failed", names=Pre(", ".join(fd.get("disagree", [])),
                                                     ", ".join(fd.get("disagree", []))),
                              err=_number(fd["max_abs_error"], 2)))
        mf = checks.get("matrix_form")
        if mf:
            out.append(self.p("matrix_check", n=sympy.Integer(mf["compared"]),
                              err=_power_of_ten_above(mf["max_abs_error"])))
        exact = checks.get("exact")
        if exact and not exact["passed"]:
            out.append(self.p("exact_failed", err=_number(exact["max_abs_error"], 2)))
        elif exact and self.style.exact:
            out.append(self.p("exact_check", n=sympy.Integer(exact["compared"]),
                              err=_power_of_ten_above(exact["max_abs_error"])))
        return out

    def errata(self, solution) -> list:
        """The source's printed answers beside the computed ones: each claim as
        written, the computed number with digits enough to show any difference,
        and the verdict; the rule (tolerance, or digits) once, or a column when
        the claims have their own."""
        rows_in = solution.expected or []
        if not rows_in:
            return []
        problem, n = self.problem, len(solution.steps)
        mixed = len({claim_rule_key(r) for r in rows_in}) > 1
        steps = n > 1 and any(c.step is not None or c.kind == "final" for c in problem.expected.values())
        header = [self.word("claim")] + ([self.word("step")] if steps else []) + [
            self.word("claimed"), self.word("computed")] + ([self.word("tolerance")] if mixed else []) + [
            self.word("verdict")]
        rows = []
        for row in rows_in:
            claim = problem.expected[row["key"]]
            step = claim.step or (n if claim.kind in ("updated", "final") else 1)
            claimed, computed = claim_cells(row, self.style.digits)
            verdict = self.word({"ok": "right", "wrong": "wrong", "truncated": "truncated"}[row["verdict"]])
            entries = disagreeing(row, problem.conventions.index_base)
            verdict += f" ({entries})" if entries else ""
            rows.append([_claim_symbol(claim, step), *([sympy.Integer(step)] if steps else []), claimed, computed,
                         *([claim_rule_cell(self.lang, row)] if mixed else []), verdict])
        ok = sum(r["ok"] for r in rows_in)
        truncated = sum(r["verdict"] == "truncated" for r in rows_in)
        out = [self.p("claims_intro", rule=self.p("rule_mixed") if mixed else claim_rule(self.lang, rows_in[0])),
               Table(header, rows), self.p("claims_summary", ok=sympy.Integer(ok), n=sympy.Integer(len(rows)))]
        if truncated:
            out.append(self.p("claims_truncated", k=sympy.Integer(truncated)))
        return out


def claim_rule_key(row: dict) -> tuple:
    """What a claim is compared by: (tol, rtol), or digits."""
    return (row["digits"],) if "digits" in row else (row["tol"], row["rtol"])


def claim_rule(lang: str, row: dict) -> Para:
    """The rule of a claim, in words: tolerance 0.001; relative tolerance 1e-6;
    both; or printed to 2 decimals."""
    if "digits" in row:
        return para(lang, "rule_digits", n=sympy.Integer(row["digits"]))

    def num(x):
        return Pre(_sci_text(as_written(x)), _sci_latex(as_written(x)))

    if row["rtol"] and row["tol"]:
        return para(lang, "rule_tol_rtol", tol=num(row["tol"]), rtol=num(row["rtol"]))
    if row["rtol"]:
        return para(lang, "rule_rtol", rtol=num(row["rtol"]))
    return para(lang, "rule_tol", tol=num(row["tol"]))


def claim_rule_cell(lang: str, row: dict):
    """A claim's rule in a table's cell: ±0.001 (mathematics), or words for digits."""
    return rule_cell(row) or phrase(lang, "rule_digits_short").format(n=row["digits"])


def _texttt(text: str) -> str:
    """A formula as the spec writes it (ASCII, the parser's), in typewriter type.  The
    renderers import this module, so the LaTeX renderer's table cannot be used here."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}", "#": r"\#",
               "$": r"\$", "%": r"\%", "&": r"\&", "~": r"\~{}"}
    return r"\texttt{" + "".join(special.get(ch, ch) for ch in text) + "}"


def _claim_symbol(claim, step: int):
    """L, a value, ∂L/∂w, or w⁽ᵏ⁾ after step k (the loss after the last update: L⁽ⁿ⁾)."""
    if claim.kind == "loss":
        return _sym("L")
    if claim.kind == "final":
        return _sym(f"L@{step}")
    if claim.kind == "value":
        return _sym(claim.name)
    if claim.kind == "updated":
        return _sym(f"{claim.name}@{step}")
    return _adj(claim.name)



def derivation_document(problem, lang: str | None = None, audience: str = "teacher",
                        digits: int | None = None) -> Document:
    return _document(problem, None, lang, audience, Style(digits))


def solution_document(problem, solution, lang: str | None = None, audience: str = "teacher",
                      digits: int | None = None, exact: bool = True, fractions: bool = False) -> Document:
    """The worked solution; with ``exact``, in exact numbers where the solution
    has them (``numeric.Solution.exact``), 3/8 for 0.375 with ``fractions``."""
    if exact and solution.exact is not None:
        return _document(problem, replace(solution, steps=solution.exact), lang, audience,
                         Style(digits, exact=True, fractions=fractions))
    return _document(problem, solution, lang, audience, Style(digits))


def _document(problem, solution, lang, audience, style: Style) -> Document:
    b = _Builder(problem, lang, audience, style)
    statement = b.statement(solution is not None)
    text = in_language(problem.statement, b.lang) if problem.statement else None
    if text:
        statement.insert(0, Para([UserText(text)]))
    return Document(problem.title_in(b.lang), b.lang, problem.source_in(b.lang), statement,
                    b.parts(solution), problem.conventions.index_base, problem.sequences, b.appendix(solution))


def _steps(problem) -> Pre:
    return Pre(f"T = {problem.steps}", f"T = {problem.steps}")


def _join(pieces: list[Pre], text_sep: str = " + ", latex_sep: str = " + ") -> Pre:
    return Pre(text_sep.join(x.text for x in pieces), latex_sep.join(x.latex for x in pieces))


def _at_step(expr, t: int):
    """A cell formula at step t: h[t-1] becomes h[2] for t = 3."""
    from .working import _STEP

    subs = {}
    for s in expr.free_symbols:
        name = _STEP.sub(lambda m: f"[{t + int(m.group(1) or 0)}]", s.of if isinstance(s, AdjointSymbol) else s.name)
        subs[s] = AdjointSymbol(name) if isinstance(s, AdjointSymbol) else Symbol(name, real=True)
    return expr.xreplace(subs)


def _names(names: list[str], builder) -> Pre:
    sep = builder.word("list_separator")
    return Pre(sep.join(builder.name_of("text")(n) for n in names), sep.join(builder.name_of("latex")(n) for n in names))


def _letter_in(letter: str, lang: str) -> str:
    """The source's part letter in this document's alphabet: б) is b) in English."""
    from .strings import STRINGS

    own = STRINGS[lang]["letters"]
    if letter in own:
        return letter
    for other in STRINGS.values():
        if letter in other["letters"]:
            return own[other["letters"].index(letter)]
    return letter
