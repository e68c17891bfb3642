"""The answers gathered at the end of a worked solution: every number the parts
ask for, in one table, as a teacher's handout ends."""

from ...evaluate.expected import lookup
from ...model.keys import Key
from ...model.kinds import ClaimKind
from ...model.spec import LOSS
from ..blocks import Rows, Section
from ..claim_names import claim_symbol
from .base import SHOW_STEPS


class Answers:
    """The "Answers" block, as a method of the document's builder: equations, not a
    table, so that a long one (a GRU's matrices) breaks across pages."""

    def answers(self, solution) -> list[Section]:
        """The network's outputs, the values ``[expected]`` claims, the loss, each
        parameter's gradient (the first step's) and, with a learning rate, each
        parameter after the last step; none without numbers."""
        if solution is None:
            return []
        first, last, n = solution.steps[0], solution.steps[-1], len(solution.steps)
        answers = [(ClaimKind.VALUE, name, value) for name, value in self.answered_values(first).items()]
        answers += [(ClaimKind.LOSS, LOSS, first.loss)]
        answers += [(ClaimKind.GRAD, name, value) for name, value in first.gradients.items()]
        answers += [(ClaimKind.UPDATED, name, value) for name, value in (last.updated or {}).items()]
        rows = [[claim_symbol(kind, name, n), self.result(value)] for kind, name, value in answers]  # named as claims are
        return [Section(self.word("answers"), [Rows(rows)], teacher=False)]  # a display: it may break across pages

    def answered_values(self, step) -> dict:
        """The outputs, the nodes the loss reads directly (at every step of a
        recurrent model; past SHOW_STEPS steps, shown by its cell, at the last),
        in the order they are computed; then every value the spec claims of the
        first step (``value.h[3]``, an entry ``value.z[1]``)."""
        reads = self.program.loss_reads()
        if self.program.recurrent and self.problem.steps > SHOW_STEPS:
            reads = {key for key in reads if Key.parse(key).indices in ((), (str(self.problem.steps),))}
        out = {key: value for key, value in step.values.items() if key in reads}
        table = {**step.values, LOSS: step.loss}
        for key, claim in self.problem.expected.items():
            if claim.kind == ClaimKind.VALUE and claim.step in (None, 1) and claim.name not in {*out, LOSS}:
                out[claim.name] = lookup(self.problem, table, claim.name, "value", key)
        return out
