"""The floating-point numbers against the exact pass in rationals (the
engine: ``exact.agreement``), where the solution has one."""

from __future__ import annotations

from . import Check, Compared, Context, Error, Result, Said, register

STRINGS = {
    "en": {
        "name": "exact arithmetic (rationals)",
        "line": "{name}: {n} numbers, max abs error {err}",
        "exact_check": "Every number here is exact: computed in rational arithmetic from the inputs as written; the "
                       "floating-point computation gives the same {n} numbers (every difference below {err}).",
        "exact_failed": "Computed in rational arithmetic, the numbers DISAGREE with the floating-point ones (largest "
                        "difference {err}): an error in symprop; please report it.",
    },
    "ru": {
        "name": "точная арифметика (рациональные числа)",
        "line": "{name}: сравнено чисел: {n}, наибольшая абсолютная ошибка {err}",
        "exact_check": "Все числа здесь точные: они вычислены в рациональных числах по данным, как они записаны; "
                       "вычисление с плавающей точкой даёт те же числа (всего {n}; все расхождения меньше {err}).",
        "exact_failed": "Вычисленные в рациональных числах, числа НЕ совпадают с вычисленными с плавающей точкой "
                        "(наибольшее расхождение {err}): это ошибка symprop, сообщите о ней.",
    },
    "zh": {
        "name": "精确算术（有理数）",
        "line": "{name}：{n} 个数，最大绝对误差 {err}",
        "exact_check": "这里的每个数都是精确值：按给出的数据用有理数运算算出；浮点运算给出相同的 {n} 个数（所有差值都小于 {err}）。",
        "exact_failed": "用有理数运算算出的数值与浮点运算的结果不一致！（最大差值为 {err}）这是 symprop 的错误，请报告。",
    },
}


class Exact(Compared):
    """The exact pass's agreement with the floating-point one (``Compared``)."""

    def appendix(self, exact: bool, shown: frozenset = frozenset()) -> list[Said]:
        if not self.passed:
            return [Said("exact_failed", err=Error(self.max_abs_error, "rounded"))]
        return [Said("exact_check", n=self.compared, err=Error(self.max_abs_error, "bound"))] if exact else []


def run(context: Context) -> Result | None:
    solution = context.solution
    if solution is None or solution.exact is None:
        return None
    from ..exact import agreement

    return Exact(**agreement(solution.steps, solution.exact))


CHECK = register(Check("exact", run, STRINGS, rank=50, solving=True))
