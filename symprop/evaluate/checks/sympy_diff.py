"""The reverse sweep's closed-form gradients against plain ``sympy.diff`` of
the expanded loss, at random points (the engine: ``check.sympy_diff_check``);
in ``symprop check`` only, on graphs small enough to expand."""

from __future__ import annotations

from dataclasses import dataclass

from . import Check, Context, Error, Result, Said, register

STRINGS = {
    "en": {
        "name": "sympy.diff of the expanded loss",
        "line": "{name}, at {n} random points: max rel error {err}",
        "too_large": "{n} scalar terms; sympy.diff checks models of up to {most}",
        "graph": "the graph has {n} nodes entry by entry; sympy.diff checks graphs of up to {most}",
        "terms": "the loss or a gradient in closed form has more than {most:,} terms; sympy.diff checks smaller ones",
        "not_evaluated": "the closed forms cannot be evaluated ({error})",
        "no_point": "no point where the loss is finite",
    },
    "ru": {
        "name": "sympy.diff развёрнутой функции потерь",
        "line": "{name}, случайных точек: {n}, наибольшая относительная ошибка {err}",
        "too_large": "{n} скалярных слагаемых; проверка рассчитана на задачи до {most}",
        "graph": "в поэлементном графе {n} узлов; sympy.diff проверяет графы до {most} узлов",
        "terms": "в замкнутой форме функции потерь или производной больше {most} слагаемых; sympy.diff проверяет "
                 "меньшие",
        "not_evaluated": "замкнутые формы не удаётся вычислить ({error})",
        "no_point": "нет точки, где функция потерь конечна",
    },
    "zh": {
        "name": "展开后损失函数的 sympy.diff",
        "line": "{name}，在 {n} 个随机点：最大相对误差 {err}",
        "too_large": "{n} 个标量项；此检验适用于至多 {most} 项的问题",
        "graph": "逐元素的图有 {n} 个节点；sympy.diff 检验至多 {most} 个节点的图",
        "terms": "损失函数或某个梯度的闭式超过 {most:,} 项；sympy.diff 只检验更小的",
        "not_evaluated": "闭式无法求值（{error}）",
        "no_point": "没有使损失函数有限的点",
    },
}


@dataclass
class SympyDiff(Result):
    """At how many random points the closed forms were compared, and their
    largest relative difference; the sample of parameter entries on a large
    problem (k of n); a closed form that is not finite; or why it is skipped."""

    points: int = 0
    max_rel_error: float = 0.0
    passed: bool = True
    sampled: tuple[int, int] | None = None
    not_finite: str | None = None
    skipped: Said | None = None

    def sample(self) -> Said | None:
        return Said("check_entries", k=self.sampled[0], n=self.sampled[1]) if self.sampled else None

    def to_json(self) -> dict:
        if self.skipped is not None:
            return self.skip_json(STRINGS)
        out = {"points": self.points, "max_rel_error": self.max_rel_error, "passed": self.passed}
        if self.not_finite is not None:
            out["not_finite"] = self.not_finite
        if self.sampled:
            out["sampled"] = self.sample().text("en", STRINGS)
        return out

    def lines(self) -> list[Said]:
        line = self.verdict(Said("line", name=Said("name"), n=self.points, err=Error(self.max_rel_error, ".1e")))
        return [line] + ([Said("check_sampled", what=self.sample())] if self.sampled else [])


def run(context: Context) -> Result:
    from ...derive.backprop import derivation_of
    from ...derive.program import program_of
    from ..check import sympy_diff_check
    from ..scalar import oversize

    skipped = oversize(program_of(context.problem))
    if skipped:
        return SympyDiff(skipped=skipped)
    return SympyDiff(**sympy_diff_check(derivation_of(context.problem)))


CHECK = register(Check("sympy_diff", run, STRINGS, rank=60))
