"""PyTorch autograd on the same program, in float64 (the engine:
``torch_check``); ``--against torch``.  With "all" it runs where PyTorch is
installed and says it is skipped where it is not; chosen alone, a missing
PyTorch is an error.  PyTorch is imported only when this check runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import Check, Context, Error, Result, Said, per_param, register

STRINGS = {
    "en": {
        "name": "PyTorch autograd (float64)",
        "line": "{name}: max abs error {abs}, max rel error {rel}",
        "no_torch": "PyTorch is not installed (pip install 'symprop[torch]')",
    },
    "ru": {
        "name": "автоматическое дифференцирование PyTorch (float64)",
        "line": "{name}: наибольшая абсолютная ошибка {abs}, наибольшая относительная ошибка {rel}",
        "no_torch": "PyTorch не установлен (pip install 'symprop[torch]')",
    },
    "zh": {
        "name": "PyTorch 自动微分（float64）",
        "line": "{name}：最大绝对误差 {abs}，最大相对误差 {rel}",
        "no_torch": "未安装 PyTorch（pip install 'symprop[torch]'）",
    },
}


@dataclass
class Torch(Result):
    """The largest difference to PyTorch's gradients, overall and a parameter,
    and the parameters that disagree; or skipped (PyTorch is not installed)."""

    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    passed: bool = True
    params: dict[str, dict[str, float]] = field(default_factory=dict)
    disagree: list[str] = field(default_factory=list)
    skipped: Said | None = None

    def to_json(self) -> dict:
        if self.skipped is not None:
            return self.skip_json(STRINGS)
        out = {"max_abs_error": self.max_abs_error, "max_rel_error": self.max_rel_error, "passed": self.passed,
               "params": self.params}
        return out | ({"disagree": self.disagree} if self.disagree else {})

    def lines(self) -> list[Said]:
        return [self.verdict(Said("line", name=Said("name"), abs=Error(self.max_abs_error, ".2e"),
                                  rel=Error(self.max_rel_error, ".2e")))] + per_param(self.params)


def run(context: Context) -> Result | None:
    if context.solution is None:
        return None
    from .. import torch_check

    if context.against == "all" and not torch_check.available():
        return Torch(skipped=Said("no_torch"))
    return Torch(**torch_check.compare(context.problem, context.solution))


CHECK = register(Check("torch", run, STRINGS, rank=20, against="torch"))
