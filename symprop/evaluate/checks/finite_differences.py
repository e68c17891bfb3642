"""Central finite differences of the loss against every gradient (the engine:
``numeric.finite_differences``); ``--against fd``.  Without numbers it says so."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import Check, Context, Error, Names, Result, Said, per_param, register

STRINGS = {
    "en": {
        "name": "finite differences",
        "line": "{name}: max abs error {abs}, max rel error {rel}",
        "none": "{name}: no [values], so no numbers to check",
        "disagree": "disagree: {names}{kink}",
        "kink": " (at a kink, where finite differences average the two sides)",
        "not_finite": "not finite at {name}: {why}",
        "along": "along {what}",
        "directions": "one random direction of each of {names}",
        "fd": "Central finite differences of the loss agree with every gradient: every difference is below {err}.",
        "fd_directions": "The sequence is long, so the differences are taken along one random direction of each "
                         "parameter: every entry of each gradient enters the comparison, through its projection on "
                         "that direction.",
        "fd_failed": "Central finite differences DISAGREE with the gradients of {names} (largest difference {err}).",
    },
    "ru": {
        "name": "конечные разности",
        "line": "{name}: наибольшая абсолютная ошибка {abs}, наибольшая относительная ошибка {rel}",
        "none": "{name}: в [values] нет чисел, проверять нечего",
        "disagree": "расходятся: {names}{kink}",
        "kink": " (в точке излома, где конечные разности усредняют две стороны)",
        "not_finite": "не конечно при {name}: {why}",
        "along": "вдоль направлений: {what}",
        "directions": "по одному случайному направлению для {names}",
        "fd": "Центральные конечные разности функции потерь совпадают со всеми производными: все расхождения "
              "меньше {err}.",
        "fd_directions": "Последовательность длинная, поэтому разности берутся вдоль одного случайного направления "
                         "для каждого параметра: в сравнение входит каждый элемент каждой производной — через её "
                         "проекцию на это направление.",
        "fd_failed": "Центральные конечные разности НЕ совпадают с производными по {names} (наибольшее "
                     "расхождение {err}).",
    },
    "zh": {
        "name": "有限差分",
        "line": "{name}：最大绝对误差 {abs}，最大相对误差 {rel}",
        "none": "{name}：[values] 中没有数值，无可检验",
        "disagree": "不一致：{names}{kink}",
        "kink": "（在折点处，有限差分取两侧的平均）",
        "not_finite": "在 {name} 处不是有限数：{why}",
        "along": "沿方向：{what}",
        "directions": "{names} 各取一个随机方向",
        "fd": "损失函数的中心有限差分与每个梯度都一致：所有差值都小于 {err}。",
        "fd_directions": "序列较长，因此差分沿每个参数的一个随机方向计算：每个梯度的每个分量都通过它在该方向上的投影参与比较。",
        "fd_failed": "中心有限差分与 {names} 的梯度不一致！（最大差值为 {err}）",
    },
}


@dataclass
class FiniteDifferences(Result):
    """The differences' largest errors, overall and a parameter; the entries
    that disagree, or where the loss a step away is not finite (and why); the
    kinks met; and, on a large problem, the sample taken: ``sampled`` entries
    (k of n), or one random direction of each of ``directions``."""

    max_abs_error: float
    max_rel_error: float
    passed: bool
    params: dict[str, dict[str, float]]
    directions: tuple[str, ...] = ()
    sampled: tuple[int, int] | None = None
    disagree: list[str] = field(default_factory=list)
    not_finite: dict[str, str] = field(default_factory=dict)
    kinks: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {"max_abs_error": self.max_abs_error, "max_rel_error": self.max_rel_error, "passed": self.passed,
               "params": self.params}
        for key, said in (("directions", self.along()), ("sampled", self.sample())):
            if said is not None:
                out[key] = said.text("en", STRINGS)
        for key in ("disagree", "not_finite", "kinks"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    def along(self) -> Said | None:
        return Said("directions", names=", ".join(self.directions)) if self.directions else None

    def sample(self) -> Said | None:
        return Said("check_entries", k=self.sampled[0], n=self.sampled[1]) if self.sampled else None

    def lines(self) -> list[Said]:
        out = [self.verdict(Said("line", name=Said("name"), abs=Error(self.max_abs_error, ".2e"),
                                 rel=Error(self.max_rel_error, ".2e")))]
        if self.disagree:
            out.append(Said("disagree", names=Names(tuple(self.disagree)), kink=Said("kink") if self.kinks else ""))
        out += [Said("not_finite", name=Names((key,)), why=why) for key, why in self.not_finite.items()]
        if self.directions:
            out.append(Said("along", what=self.along()))
        if self.sampled:
            out.append(Said("check_sampled", what=self.sample()))
        return out + per_param(self.params)

    def appendix(self, exact: bool, shown: frozenset = frozenset()) -> list[Said]:
        if not self.passed:
            return [Said("fd_failed", names=Names(tuple(self.disagree)), err=Error(self.max_abs_error, "rounded"))]
        return [Said("fd", err=Error(self.max_abs_error, "bound"))] + ([Said("fd_directions")] if self.directions else [])


@dataclass
class NoNumbers(Result):
    """A problem without numbers: nothing to difference."""

    passed: bool = True

    def to_json(self) -> dict:
        return {"skipped": "no [values]", "passed": True}

    def lines(self) -> list[Said]:
        return [Said("none", name=Said("name"))]


def run(context: Context) -> Result:
    if context.solution is None:
        return NoNumbers()
    from ..numeric import finite_differences

    return FiniteDifferences(**finite_differences(context.machine, context.run))


CHECK = register(Check("finite_differences", run, STRINGS, rank=10, solving=True, against="fd"))
