"""Every printed formula through time of a scalar recurrent cell, evaluated:
the recursion back over the steps, the sums over t and ∂Lₜ/∂p written out
term by term, against the engine's adjoints, gradients and per-step
gradients (the engine: ``unrolled.through_time_agreement``); a problem
without numbers is checked at random values."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import Check, Compared, Context, Error, Names, Result, Said, register

STRINGS = {
    "en": {
        "name": "formulas through time, evaluated",
        "line": "{name}: {n} derivatives, max abs error {err}",
        "sums": "the recursion over t = T, …, 1 and the sums over t of the gradients of {names}",
        "unrolled": "∂Lₜ/∂p written out term by term for {names}, t = 1, …, {steps}",
        "worst": "largest difference at {where}",
        "unrolled_last": "∂L/∂p written out term by term for {names}, at t = {steps}",
        "vector_check": "Evaluated with these numbers, the derivatives of the loss by {names} written out term by "
                        "term (products of Jacobians back through the steps) give the same {n} numbers as the "
                        "backward pass (every difference below {err}).",
        "unrolled_check": "Evaluated with these numbers, the formulas through time (the recursion back over the "
                          "steps, the sums over the steps, and the derivatives of each step's loss by {names} "
                          "written out term by term) give the same {n} derivatives as the backward pass (every "
                          "difference below {err}).",
        "unrolled_last_check": "Evaluated with these numbers, the formulas through time (the recursion back over "
                               "the steps, the sums over the steps, and the derivatives of the loss by {names} "
                               "written out term by term at t = {steps}) give the same {n} derivatives as the "
                               "backward pass (every difference below {err}).",
        "sums_check": "Evaluated with these numbers, the formulas through time (the recursion back over the steps "
                      "and the sums over the steps) give the same {n} derivatives as the backward pass (every "
                      "difference below {err}).",
        "unrolled_failed": "Evaluated with these numbers, the formulas through time DISAGREE with the backward pass "
                           "(largest difference {err}): an error in symprop; please report it.",
    },
    "ru": {
        "name": "формулы во времени, вычисленные на числах",
        "line": "{name}: сравнено производных: {n}, наибольшая абсолютная ошибка {err}",
        "sums": "рекурсия по t = T, …, 1 и суммы по t в производных по {names}",
        "unrolled": "∂Lₜ/∂p, расписанные по слагаемым, для {names}, t = 1, …, {steps}",
        "worst": "наибольшее расхождение: {where}",
        "unrolled_last": "∂L/∂p, расписанные по слагаемым, для {names}, при t = {steps}",
        "vector_check": "Расписанные по слагаемым производные ошибки по {names} (произведения якобианов назад по "
                        "шагам), вычисленные на этих числах, дают те же {n} чисел, что и обратный проход (все "
                        "расхождения меньше {err}).",
        "unrolled_check": "Формулы во времени (рекурсия назад по шагам, суммы по шагам и расписанные по "
                          "слагаемым производные ошибки каждого шага по {names}), вычисленные на этих числах, дают "
                          "те же {n} производных, что и обратный проход (все расхождения меньше {err}).",
        "unrolled_last_check": "Формулы во времени (рекурсия назад по шагам, суммы по шагам и расписанные по "
                               "слагаемым производные ошибки по {names} при t = {steps}), вычисленные на этих "
                               "числах, дают те же {n} производных, что и обратный проход (все расхождения меньше "
                               "{err}).",
        "sums_check": "Формулы во времени (рекурсия назад по шагам и суммы по шагам), вычисленные на этих числах, "
                      "дают те же {n} производных, что и обратный проход (все расхождения меньше {err}).",
        "unrolled_failed": "Формулы во времени, вычисленные на этих числах, НЕ совпадают с обратным проходом "
                           "(наибольшее расхождение {err}): это ошибка symprop, сообщите о ней.",
    },
    "zh": {
        "name": "随时间展开的公式，代入数值",
        "line": "{name}：{n} 个导数，最大绝对误差 {err}",
        "sums": "t = T, …, 1 的递推式与 {names} 的梯度对 t 的求和",
        "unrolled": "{names} 的逐项展开的 ∂Lₜ/∂p，t = 1, …, {steps}",
        "worst": "最大差值在 {where}",
        "unrolled_last": "{names} 的逐项展开的 ∂L/∂p，t = {steps}",
        "vector_check": "代入这些数值，逐项展开的损失对 {names} 的偏导数（沿时间步反向的雅可比矩阵之积）给出与反向传播相同的 "
                        "{n} 个数（所有差值都小于 {err}）。",
        "unrolled_check": "代入这些数值，随时间展开的公式（沿时间步反向的递推式、对各时间步的求和，以及逐项展开的每一步损失"
                          "对 {names} 的偏导数）给出与反向传播相同的 {n} 个导数（所有差值都小于 {err}）。",
        "unrolled_last_check": "代入这些数值，随时间展开的公式（沿时间步反向的递推式、对各时间步的求和，以及在 t = {steps} "
                               "逐项展开的损失对 {names} 的偏导数）给出与反向传播相同的 {n} 个导数（所有差值都小于 {err}）。",
        "sums_check": "代入这些数值，随时间展开的公式（沿时间步反向的递推式与对各时间步的求和）给出与反向传播相同的 {n} "
                      "个导数（所有差值都小于 {err}）。",
        "unrolled_failed": "代入这些数值，随时间展开的公式与反向传播不一致！（最大差值为 {err}）这是 symprop 的错误，请报告。",
    },
}


@dataclass
class UnrolledForm(Compared):
    """The formulas through time against the engine (``Compared``): the
    parameters of the sums over t, those written out term by term, the
    number of steps, and where the largest difference was."""

    sums: tuple[str, ...] = ()
    unrolled: tuple[str, ...] = ()
    steps: int = 0
    worst: str | None = None
    last_step_only: bool = False  # a loss after the loop: ∂L/∂p written out at t = T alone

    def to_json(self) -> dict:
        out = self.json(STRINGS)
        if self.skipped is None:
            out["unrolled"] = list(self.unrolled)
            if not self.passed:
                out["worst"] = self.worst
        return out

    def lines(self) -> list[Said]:
        out = super().lines() + ([Said("sums", names=Names(self.sums))] if self.sums else [])
        if self.unrolled:
            key = "unrolled_last" if self.last_step_only else "unrolled"
            out.append(Said(key, names=Names(self.unrolled), steps=self.steps))
        return out + ([Said("worst", where=self.worst)] if not self.passed else [])

    def appendix(self, exact: bool, shown: frozenset = frozenset()) -> list[Said]:
        """Said of the forms the document printed: the recursion and sums (piece ``bptt``), the
        written-out ∂Lₜ/∂p (piece ``unrolled``); a disagreement is said whatever was printed."""
        if not self.passed:
            return [Said("unrolled_failed", err=Error(self.max_abs_error, "rounded"))]
        err = Error(self.max_abs_error, "bound")
        unrolled = bool(self.unrolled) and "unrolled" in shown
        if not self.sums:  # a cell of vectors: its recursion and sums are the matrix form's
            return [Said("vector_check", names=Names(self.unrolled), n=self.compared, err=err)] if unrolled else []
        if unrolled:
            key = "unrolled_last_check" if self.last_step_only else "unrolled_check"
            return [Said(key, names=Names(self.unrolled), n=self.compared, err=err, steps=self.steps)]
        return [Said("sums_check", n=self.compared, err=err)] if "bptt" in shown else []


def run(context: Context) -> Result | None:
    if context.solution is None:
        return _at_random_values(context.problem)
    from ..unrolled import through_time_agreement

    found = through_time_agreement(context.problem, context.machine, context.run)
    return UnrolledForm(**found) if found is not None else None


def _at_random_values(problem) -> Result | None:
    """The formulas of a recurrent problem without numbers, checked at random values."""
    from ...derive.program import program_of
    from ...model.spec import Built
    from ..claims import random_values
    from ..numeric import solve

    program = program_of(problem)
    if not program.recurrent or problem.functions:
        return None
    numbered = dataclasses.replace(problem, values=random_values(program), expected={}, claims=(), built=Built())
    found = solve(numbered, exact=False).checks.get("unrolled_form")
    return dataclasses.replace(found, at="random values") if found is not None else None


CHECK = register(Check("unrolled_form", run, STRINGS, rank=45, solving=True))
