"""A check is one module: how it runs, a typed result with its JSON, and its
own words in each language.  A check registered here, from the test, that
recomputes the loss with NumPy alone (and can be told to be wrong) shows up in
``symprop check`` in English, Russian and Chinese, in the JSON of the
solution and in the teacher's appendix; its failure fails the check; and
``--against`` can choose it.  The built-in checks' phrases have the same
keys and places in every language."""

import re
import string
from dataclasses import dataclass

import numpy as np
import pytest

import symprop
from symprop import api
from symprop.evaluate.checks import (
    CHECKS,
    Check,
    Context,
    Error,
    Result,
    Said,
    against_choices,
    ordered,
    register,
    unregister,
)
from symprop.languages import LANGUAGES

SPEC = """
title = "One neuron"
[model]
params = ["w"]
equations = "z = tanh(w * x)"
loss = "(z - y)**2"
[values]
w = 0.5
x = 2
y = 1
"""
LOSS = (np.tanh(0.5 * 2) - 1) ** 2  # 0.05684…, by NumPy alone

# The test check: one module's worth, here ------------------------------------------------------

STRINGS = {
    "en": {"name": "the loss by NumPy alone", "line": "{name}: {loss} against {ours}",
           "appendix": "Recomputed by NumPy alone, the loss is the same (difference below {err})."},
    "ru": {"name": "функция потерь, вычисленная одним NumPy", "line": "{name}: {loss} против {ours}",
           "appendix": "Функция потерь, вычисленная заново одним NumPy, та же (расхождение меньше {err})."},
    "zh": {"name": "仅用 NumPy 算出的损失", "line": "{name}：{loss} 对 {ours}",
           "appendix": "仅用 NumPy 重新算出的损失相同（差值小于 {err}）。"},
}
WRONG_BY = {"offset": 0.0}  # the fixture's knob: how far the recomputation is off


@dataclass
class LossByNumpy(Result):
    loss: float
    ours: float
    passed: bool

    def to_json(self) -> dict:
        return {"loss": self.loss, "ours": self.ours, "passed": self.passed}

    def lines(self) -> list[Said]:
        return [self.verdict(Said("line", name=Said("name"), loss=f"{self.loss:.6f}", ours=f"{self.ours:.6f}"))]

    def appendix(self, exact: bool, shown: frozenset = frozenset()) -> list[Said]:
        return [Said("appendix", err=Error(abs(self.loss - self.ours), "bound"))]


def run(context: Context) -> Result | None:
    if context.solution is None:
        return None
    v = context.problem.values
    loss = (np.tanh(float(v["w"]) * float(v["x"])) - float(v["y"])) ** 2 + WRONG_BY["offset"]
    ours = float(context.solution.first.loss)
    return LossByNumpy(loss, ours, abs(loss - ours) <= 1e-12)


@pytest.fixture
def numpy_check():
    before = list(CHECKS)
    register(Check("loss_by_numpy", run, STRINGS, rank=70, solving=True, against="numpy"))
    yield
    WRONG_BY["offset"] = 0.0
    unregister("loss_by_numpy")
    assert list(CHECKS) == before


# The tests --------------------------------------------------------------------------------------


def test_the_registry_holds_the_built_in_checks_in_order():
    assert [c.name for c in ordered()] == ["finite_differences", "torch", "scalar_engine", "matrix_form",
                                          "unrolled_form", "exact", "sympy_diff"]
    assert against_choices() == api.AGAINST == ("fd", "torch", "all")


@pytest.mark.parametrize("lang, line", [
    ("en", "  the loss by NumPy alone: 0.056837 against 0.056837: passed"),
    ("ru", "  функция потерь, вычисленная одним NumPy: 0.056837 против 0.056837: пройдена"),
    ("zh", "  仅用 NumPy 算出的损失：0.056837 对 0.056837：通过"),
])
def test_a_registered_check_speaks_in_the_report_in_each_language(numpy_check, lang, line):
    report, ok = api.check_report(symprop.loads(SPEC).spec, "all", lang)
    assert ok and line in report.splitlines()
    assert report.index("sympy.diff") < report.index(line.strip())  # after the built-in ones: its rank


def test_its_failure_fails_the_check(numpy_check):
    WRONG_BY["offset"] = 1e-3
    report, ok = api.check_report(symprop.loads(SPEC).spec, "all", "en")
    assert not ok and "  the loss by NumPy alone: 0.057837 against 0.056837: FAILED" in report
    assert report.rstrip().endswith("some checks FAILED")


def test_its_result_is_in_the_solution_json_and_the_teacher_appendix(numpy_check):
    solution = symprop.loads(SPEC).solution()
    checks = solution.to_json()["checks"]
    assert list(checks) == ["finite_differences", "scalar_engine", "loss_by_numpy"]  # tanh: no exact pass
    assert checks["loss_by_numpy"]["passed"] and checks["loss_by_numpy"]["loss"] == pytest.approx(LOSS, abs=1e-15)
    for lang, said in [("en", "Recomputed by NumPy alone, the loss is the same (difference below 10⁻¹²)."),
                       ("ru", "Функция потерь, вычисленная заново одним NumPy, та же (расхождение меньше 10⁻¹²)."),
                       ("zh", "仅用 NumPy 重新算出的损失相同（差值小于 10⁻¹²）。")]:
        assert said in solution.document("text", lang=lang)
        assert said not in solution.document("text", lang=lang, audience="student")
    assert r"10^{-12}" in solution.document("latex")


def test_against_chooses_it(numpy_check):
    assert "numpy" in against_choices()
    report, ok = api.check_report(symprop.loads(SPEC).spec, "numpy", "en")
    assert ok and "the loss by NumPy alone" in report
    assert "finite differences" not in report and "PyTorch" not in report  # chosen: this one, not fd or torch
    assert "sympy.diff of the expanded loss" in report  # one no choice selects runs whatever is chosen
    fd, _ = api.check_report(symprop.loads(SPEC).spec, "fd", "en")
    assert "finite differences" in fd and "NumPy alone" not in fd


def test_unregistered_it_is_gone():
    assert "loss_by_numpy" not in CHECKS and "numpy" not in against_choices()
    with pytest.raises(symprop.SympropError, match="against must be one of fd, torch, all"):
        api.check_report(symprop.loads(SPEC).spec, "numpy", "en")
    assert "NumPy alone" not in symprop.loads(SPEC).check()[0]


def _places(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("check", [c.name for c in ordered()])
def test_every_built_in_check_speaks_every_language_with_the_same_places(check):
    strings = CHECKS[check].strings
    assert set(strings) == {"en", "ru", "zh"} <= set(LANGUAGES)
    for lang in ("ru", "zh"):
        assert set(strings[lang]) == set(strings["en"]), lang
        for key, text in strings["en"].items():
            assert _places(strings[lang][key]) == _places(text), (lang, key)
            assert not re.search(r"[А-Яа-я\u4e00-\u9fff]", text), key  # English is English
