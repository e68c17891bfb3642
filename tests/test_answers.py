"""A worked solution ends with its answers gathered: the outputs, the values the
spec claims, the loss, each gradient and, with a learning rate, each parameter
after the step; in every reader's version."""

import re
from fractions import Fraction

import pytest

import symprop
from tests.test_variants import _masha_by_hand


def _answers(text: str, heading: str) -> dict:
    block = text.split(f"\n{heading}\n")[1].split("\n\n\n")[0]
    return dict(re.findall(r"^  (\S+) += (-?[\d./]+)$", block, re.M))


def test_masha_rnns_answers_agree_with_a_hand_computation():
    F = Fraction
    loss, _, grads, updated = _masha_by_hand(F("0.5"), F("0.5"), F("0.5"), [F(0), F(1), F(-1), F(2)], F("0.1"))
    problem = symprop.load("masha_rnn")
    for audience in ("teacher", "student"):
        got = _answers(problem.solution().document("text", lang="en", audience=audience), "Answers")
        assert F(got["L"]) == loss
        for p in "uvw":  # seed 000's notation: u₁ is u after the step
            assert F(got[f"∂L/∂{p}"]) == grads[p] and F(got[f"{p}₁"]) == updated[p]


def test_masha_rnns_answers_hold_a_prediction_for_every_step_and_the_claimed_h3():
    """Part а asks for ŷₜ at every t: ŷ₁ = 0, ŷ₂ = 0.25, ŷ₃ = 0 by hand (the source's
    h₃ = 0.375 is wrong: h₃ = relu(0.5·0.5 − 0.5) = 0), then h₃, which [expected] claims."""
    F = Fraction
    _, values, _, _ = _masha_by_hand(F("0.5"), F("0.5"), F("0.5"), [F(0), F(1), F(-1), F(2)], F("0.1"))
    solution = symprop.load("masha_rnn").solution()
    for lang, heading in (("en", "Answers"), ("ru", "Ответы"), ("zh", "答案")):
        got = _answers(solution.document("text", lang=lang), heading)
        assert list(got)[:5] == ["ŷ₁", "ŷ₂", "ŷ₃", "h₃", "L"]
        for t in (1, 2, 3):
            assert F(got[f"ŷ{'₀₁₂₃'[t]}"]) == values[f"yhat[{t}]"]
        assert F(got["h₃"]) == values["h[3]"] == 0
    latex = solution.document("latex", lang="en").split(r"\section*{Answers}")[1]
    assert latex.index(r"\hat{y}_{3} &= 0") < latex.index(r"h_{3} &= 0") < latex.index("L &= 6.5625")


def test_a_long_sequence_answers_with_its_last_prediction():
    """Past 12 steps a document shows the cell only, and its answers ŷ at the last
    step: with u = v = w = 0.5 and y = 1, 1, …, h₁ = 0.5, h₂ = 0.75 (hₜ = 1 − 2⁻ᵗ),
    so h₂₀ = 1 − 2⁻²⁰ and ŷ₂₀ = h₂₀/2 = 0.5 − 2⁻²¹."""
    spec = open("derivations/masha_rnn.toml", encoding="utf-8").read().split("[expected]")[0]
    spec = spec.replace("steps = 3", "steps = 20").replace("y = [0, 1, -1, 2]", f"y = {[1] * 21}")
    got = _answers(symprop.loads(spec).solution().document("text", lang="en"), "Answers")
    assert [k for k in got if k.startswith("ŷ")] == ["ŷ₂₀"]
    assert float(got["ŷ₂₀"]) == pytest.approx(0.5 - 2 ** -21, abs=1e-4)


_VECTOR = """
title = "A vector output"
[model]
params = ["W"]
equations = \"\"\"
z = W @ x
yhat = 2*z
\"\"\"
loss = "sum((yhat - y)**2)"
[values]
W = [[1, 2], [3, 4]]
x = [1, -1]
y = [0, 1]
"""


def test_a_vector_output_and_a_claimed_value_are_answers():
    """z = W·x = (1 − 2, 3 − 4) = (−1, −1), ŷ = 2z = (−2, −2), L = 4 + 9 = 13; the
    output first, then z once [expected] claims it, then the loss."""
    text = symprop.loads(_VECTOR).solution().document("text", lang="en")
    block = text.split("\nAnswers\n")[1].split("\n\n\n")[0]
    assert "ŷ     = (-2, -2)ᵀ" in block and "z" not in block.replace("∂", "")
    claimed = symprop.loads(_VECTOR + '[expected]\n"value.z" = [-1, -1]\n').solution()
    for lang, heading in (("en", "Answers"), ("ru", "Ответы"), ("zh", "答案")):
        block = claimed.document("text", lang=lang).split(f"\n{heading}\n")[1].split("\n\n\n")[0]
        lines = [line.split("=")[0].strip() for line in block.splitlines() if "=" in line]
        assert lines == ["ŷ", "z", "L", "∂L/∂W"]
        assert "z     = (-1, -1)ᵀ" in block and "L     = 13" in block


def test_the_answers_are_in_every_language_and_format():
    solution = symprop.load("udl_toy").solution()
    assert "\nОтветы\n" in solution.document("text") and "\n答案\n" in solution.document("text", lang="zh")
    assert r"\section*{Answers}" in solution.document("latex", lang="en")
    assert "## Answers" in solution.document("markdown", lang="en")
    assert "Answers" not in symprop.load("udl_toy").document("text", lang="en")  # the derivation has no numbers


def test_a_long_closed_form_stays_nested():
    """stepik's closed forms (about 470 characters each) stay in the nested form, said once;
    udl_toy's (about 150) are written out beside it."""
    stepik = symprop.load("stepik_mlp").document("text", lang="en")
    assert stepik.count("is left in the nested form") == 1 and "tanh(U₁₁·tanh(" not in stepik
    udl = symprop.load("udl_toy").document("text", lang="en")
    assert "nested form" not in udl and "∂L/∂ω₀ = ∂L/∂f₀·x = -ω₁·ω₂·ω₃·x·" in udl
