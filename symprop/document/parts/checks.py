"""The checks a document reports, and the teacher's appendix: the source's claims and formulas beside the computed ones."""


import sympy

from ...derive.sweep import FormulaKind, through_time
from ...evaluate.checks import Error, Names, Said, strings_of, template
from ...evaluate.claims import formula_claims
from ...model.keys import Key
from ...model.kinds import ClaimKind
from ..blocks import (
    Beside,
    Para,
    Section,
    Table,
    claim_rule,
    claim_rule_cell,
    claim_rule_key,
    fill,
)
from ..claim_names import claim_step, claim_symbol, step_column
from ..maths import Typeset, Unicode
from ..numbers import (
    _number,
    _power_of_ten_above,
    claim_cells,
    disagreeing,
)
from ..quoted import quoted
from .base import _adj, _sym


class Checks:
    """The checks a document reports, and the teacher's appendix, as methods of the document's builder."""

    def appendix(self, solution) -> list[Section]:
        if self.audience != "teacher":
            return []
        sections = [Section(self.word("checks"), self.checks(solution))] if solution is not None else []
        errata = (self.errata(solution) if solution is not None else []) + self.formula_errata(solution)
        if errata:
            sections.append(Section(self.word("claims_computed" if self.problem.computed else "claims"), errata))
        return sections

    def formula_errata(self, solution) -> list:
        """The source's formulas and statements, each beside the right one."""
        claims = solution.formula_claims if solution is not None else formula_claims(self.problem)
        out = []
        for c in claims:
            quoted = self.quoted(str(c.claimed)) if c.kind != ClaimKind.THROUGH_TIME else None
            verdict = self.word("right" if c.ok else "wrong")
            if c.kind == ClaimKind.THROUGH_TIME:
                said = self.word("claim_bptt_yes" if c.claimed else "claim_bptt_no")
                out.append(self.p("erratum_statement", p=_sym(c.target), said=said, verdict=verdict))
                if not c.ok:
                    out += self.through_time([p for p in through_time(self.program) if p.name == c.target])
                continue
            name = Key.parse(c.target).name
            step = "[t]" if self.program.recurrent and c.step is None and name in self.program.cell_names() else (
                f"[{c.step}]" if c.step is not None else "")
            lhs = _adj(name + step)
            right = None if c.ok else self.right_formula(c)
            if c.ok:
                out.append(self.p("erratum_formula_ok", lhs=lhs, claimed=quoted, verdict=verdict))
            elif right is None:
                out.append(self.p("erratum_formula", lhs=lhs, claimed=quoted, verdict=verdict, reason=self.reason(c)))
            else:  # the source's formula beside the right one
                out += [self.p("erratum_formula_for", lhs=lhs, verdict=verdict, reason=self.reason(c)),
                        Beside([self.word("erratum_source"), self.word("erratum_right")],
                               [[lhs, quoted], [lhs, right]])]
        return out

    def quoted(self, formula: str) -> Typeset:
        """The source's formula as mathematics, as it writes it, in this problem's names and notation."""
        names = (self.name_of("text"), self.name_of("latex"))
        return quoted(formula, names, _adj, self.matrix is not None, self.problem.functions)

    def reason(self, c) -> Para:
        """Why a claimed formula is wrong, in the document's language (from the claim's verdict)."""
        if c.why in ("product", "not_defined"):
            if not c.detail:
                return self.p("reason_not_defined_plain")
            return self.p(f"reason_{c.why}", shapes=Unicode(c.detail))
        if c.why == "factor":
            return self.p("reason_factor", k=Unicode(c.detail))
        return self.p(f"reason_{c.why}" if c.why in ("sign", "zero", "transpose", "not_finite") else "reason_differs")

    def right_formula(self, c):
        """symprop's own formula for what a claim is about."""
        if self.matrix is not None and c.kind == ClaimKind.ADJOINT:
            name = Key.parse(c.target).name
            chosen = [f for f in self.matrix.formulas if f.kind == FormulaKind.ADJ and f.name == name]
            if chosen:
                return self.formula_rows(self.matrix).rows[self.matrix.formulas.index(chosen[0])][-1]
            return None
        if c.kind == ClaimKind.GRAD and self.scalar and not self.program.recurrent:
            s = self.story
            if s is not None:
                for gr in s.gradients:
                    if gr.param.name == c.target:
                        return s.closed(gr, boxed=False)
            return self.derivation.gradients.get(_sym(c.target))
        return None

    def checks(self, solution) -> list:
        """The checks that ran with the solution, each in its own words, in the registry's order."""
        out = []
        for name, result in solution.checks.items():
            out += [self.said(said, strings_of(name)) for said in result.appendix(self.style.exact, self.shown)]
        return out

    def said(self, said: Said, strings: dict) -> Para:
        """A check's sentence: its names and counts as mathematics, a difference as a bound or rounded."""

        def math(value):
            if isinstance(value, Said):
                return self.said(value, strings)
            if isinstance(value, Names):
                return Unicode(", ".join(value.keys))
            if isinstance(value, Error):
                return _power_of_ten_above(value.value) if value.form == "bound" else _number(value.value, 2)
            return sympy.Integer(value) if isinstance(value, int) else value

        return fill(template(self.lang, strings, said.key), **{k: math(v) for k, v in said.places.items()})

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
        steps = step_column(problem.expected.values(), n)
        header = [self.word("claim")] + ([self.word("step")] if steps else []) + [
            self.word("claimed"), self.word("computed")] + ([self.word("tolerance")] if mixed else []) + [
            self.word("verdict")]
        rows = []
        for row in rows_in:
            claim = problem.expected[row["key"]]
            step = claim_step(claim, n)
            claimed, computed = claim_cells(row, self.style.digits)
            verdict = self.word({"ok": "right", "wrong": "wrong", "truncated": "truncated"}[row["verdict"]])
            entries = disagreeing(row, problem.conventions.index_base)
            verdict += f" ({entries})" if entries else ""
            rows.append([claim_symbol(claim.kind, claim.name, step), *([sympy.Integer(step)] if steps else []), claimed, computed,
                         *([claim_rule_cell(self.lang, row)] if mixed else []), verdict])
        ok = sum(r["ok"] for r in rows_in)
        truncated = sum(r["verdict"] == "truncated" for r in rows_in)
        out = [self.p("claims_computed_intro" if self.problem.computed else "claims_intro", rule=self.p("rule_mixed") if mixed else claim_rule(self.lang, rows_in[0])),
               Table(header, rows), self.p("claims_summary", ok=sympy.Integer(ok), n=sympy.Integer(len(rows)))]
        if truncated:
            out.append(self.p("claims_truncated", k=sympy.Integer(truncated)))
        return out
