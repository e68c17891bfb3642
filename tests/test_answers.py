"""A worked solution ends with its answers gathered: the loss, each gradient and,
with a learning rate, each parameter after the step; in every reader's version."""

import re
from fractions import Fraction

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
