"""Every printed matrix formula, evaluated, against the engine's adjoints (the
engine: ``numeric.verify``); a problem without numbers is checked at random
values."""

from __future__ import annotations

import dataclasses

from . import Check, Compared, Context, Error, Result, Said, register

STRINGS = {
    "en": {
        "name": "matrix-form formulas, evaluated",
        "line": "{name}: {n} adjoints and gradients, max abs error {err}",
        "matrix_check": "Evaluated with these numbers, the matrix formulas give the same {n} adjoints and gradients "
                        "(every difference below {err}).",
    },
    "ru": {
        "name": "матричные формулы, вычисленные на числах",
        "line": "{name}: сравнено производных: {n}, наибольшая абсолютная ошибка {err}",
        "matrix_check": "Матричные формулы, вычисленные на этих числах, дают те же {n} производных (все расхождения "
                        "меньше {err}).",
    },
    "zh": {
        "name": "矩阵形式的公式，代入数值",
        "line": "{name}：{n} 个导数，最大绝对误差 {err}",
        "matrix_check": "代入这些数值，矩阵公式给出相同的 {n} 个导数（所有差值都小于 {err}）。",
    },
}


class MatrixForm(Compared):
    """The matrix formulas' agreement with the engine (``Compared``)."""

    def appendix(self, exact: bool, shown: frozenset = frozenset()) -> list[Said]:
        return [Said("matrix_check", n=self.compared, err=Error(self.max_abs_error, "bound"))]


def run(context: Context) -> Result | None:
    if context.solution is None:
        return _at_random_values(context.problem)
    from ...derive.program import has_arrays
    from ..numeric import verify

    if not has_arrays(context.machine.program):
        return None
    return MatrixForm(**verify(context.problem, context.machine, context.run))


def _at_random_values(problem) -> Result | None:
    """The formulas of a problem without numbers, checked at random values."""
    from ...derive.program import has_arrays, program_of
    from ...model.spec import Built
    from ..claims import random_values
    from ..numeric import solve

    program = program_of(problem)
    if not has_arrays(program) or problem.functions:
        return None
    numbered = dataclasses.replace(problem, values=random_values(program), expected={}, claims=(), built=Built())
    return dataclasses.replace(solve(numbered).checks["matrix_form"], at="random values")


CHECK = register(Check("matrix_form", run, STRINGS, rank=40, solving=True))
