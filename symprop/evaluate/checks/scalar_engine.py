"""The array engine's gradients and adjoints against the entry-by-entry scalar
engine's (the engine: ``scalar.scalar_check``), on problems small enough to
expand; above its cap it says it is skipped, and why."""

from __future__ import annotations

from . import Check, Compared, Context, Result, register

STRINGS = {
    "en": {
        "name": "entry-by-entry scalar engine",
        "line": "{name}: {n} adjoints and gradients, max abs error {err}",
        "too_large": "{n} scalar terms; the entry-by-entry engine checks problems of up to {most}",
    },
    "ru": {
        "name": "поэлементный скалярный движок",
        "line": "{name}: сравнено производных: {n}, наибольшая абсолютная ошибка {err}",
        "too_large": "{n} скалярных слагаемых; проверка рассчитана на задачи до {most}",
    },
    "zh": {
        "name": "逐元素标量引擎",
        "line": "{name}：{n} 个导数，最大绝对误差 {err}",
        "too_large": "{n} 个标量项；此检验适用于至多 {most} 项的问题",
    },
}


class ScalarEngine(Compared):
    """The scalar engine's agreement (``Compared``), skipped on a large problem."""

    def to_json(self) -> dict:
        return self.json(STRINGS)


def run(context: Context) -> Result | None:
    if context.solution is None:
        return None
    from ..scalar import scalar_check

    problem, first = context.problem, context.solution.first
    return ScalarEngine(**scalar_check(problem, context.machine.program, problem.first_values(),
                                       first.gradients, first.adjoints))


CHECK = register(Check("scalar_engine", run, STRINGS, rank=30, solving=True))
