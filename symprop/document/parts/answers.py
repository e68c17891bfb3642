"""The answers gathered at the end of a worked solution: every number the parts
ask for, in one table, as a teacher's handout ends."""

from ...model.spec import LOSS
from ..blocks import Rows, Section
from .base import _adj, _sym


class Answers:
    """The "Answers" block, as a method of the document's builder: equations, not a
    table, so that a long one (a GRU's matrices) breaks across pages."""

    def answers(self, solution) -> list[Section]:
        """The loss, each parameter's gradient (the first step's) and, with a
        learning rate, each parameter after the last step; none without numbers."""
        if solution is None:
            return []
        first, last, n = solution.steps[0], solution.steps[-1], len(solution.steps)
        rows = [[_sym(LOSS), self.num(first.loss)]]
        rows += [[_adj(name), self.num(value)] for name, value in first.gradients.items()]
        if last.updated is not None:
            rows += [[_sym(f"{name}@{n}"), self.num(value)] for name, value in last.updated.items()]
        return [Section(self.word("answers"), [Rows(rows)], teacher=False)]  # a display: it may break across pages
