"""``symprop check --lang ru|zh``: the report in the language asked for, its
frame and the engines' usual reasons (a skip, a sample); English by default,
as before.  The reasons given for a formula claim stay English (said in --help)."""

import json
import re

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.languages import STRINGS

ALLOWED = {"sympy", "diff", "pytorch", "float64", "pip", "install", "symprop", "torch", "values", "max"}
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
CLAIM_KEY = re.compile(r"^\s*(value|grad|loss|updated|adjoint|final|formula|through_time|step)\b")


def foreign(report: str) -> list[str]:
    """Latin words in the report's lines, leaving out the claims' keys and the
    reasons of formula claims (the line after a claim about a formula)."""
    out, after_formula = [], False
    for line in report.splitlines()[1:]:  # the title is the spec's
        if after_formula or CLAIM_KEY.match(line):
            after_formula = CLAIM_KEY.match(line) is not None and " = " in line
            continue
        words = [w for w in LATIN.findall(line) if w.lower() not in ALLOWED and not re.fullmatch(r"[a-z]\d*", w)]
        out += [f"{w}: {line.strip()}" for w in words]
    return out


@pytest.mark.parametrize("name", ["masha_rnn", "conv_channels", "udl_toy", "softmax_classifier"])
@pytest.mark.parametrize("lang, word", [("ru", "Проверки"), ("zh", "检验")])
def test_the_report_speaks_the_language_asked_for(name, lang, word):
    result = CliRunner().invoke(main, ["check", name, "--lang", lang])
    assert result.exit_code in (0, 1) and "internal error" not in result.output
    assert word in result.output
    assert not foreign(result.output), foreign(result.output)


def test_english_by_default():
    result = CliRunner().invoke(main, ["check", "udl_toy"])
    assert result.exit_code == 0
    assert "Checks" in result.output and result.output.rstrip().endswith("all checks passed")


def _claim_rows(report: str, lang: str) -> list[list[str]]:
    """The rows of the table of the source's numbers: the lines between its header and the count."""
    block = next(b for b in report.split("\n\n") if b.startswith(STRINGS[lang]["check_claims"]))
    return [line.split() for line in block.splitlines()[2:-1]]  # the title, the header … the count


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_the_claims_are_named_as_mathematics(lang):
    """seed 000's claims value.h[3], loss, grad.u, updated.u are h₃, L, ∂L/∂u and u₁
    (its notation: u₁ is u after the step), as its worked solution names them."""
    result = CliRunner().invoke(main, ["check", "masha_rnn", "--lang", lang])
    rows = _claim_rows(result.output, lang)
    assert [r[0] for r in rows] == ["h₃", "L", "∂L/∂u", "u₁"]
    assert [r[1:3] for r in rows] == [["0.375", "0"], ["5.8475", "6.5625"], ["-0.11", "1.25"], ["0.511", "0.375"]]
    assert "value.h[3]" not in result.output and "grad.u" not in result.output


TWO_STEPS = """
title = "Two observations"
[model]
params = ["W"]
equations = \"\"\"
z = W @ x
\"\"\"
loss = "sum((z - y)**2) / 2"
[values]
W = [[1, 0], [0, 1]]
x = [1, 2]
y = [1, 1]
[training]
lr = 0.5
[[training.batches]]
x = [1, 2]
y = [1, 1]
[[training.batches]]
x = [1, 0]
y = [0, 1]
[expected]
"step.1.grad.W[1][0]" = 1
"step.2.value.z" = [1, -0.5]
"step.2.loss" = 1.625
"updated.W[1][0]" = 0.25
"final.loss" = 0.40625
"""


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_a_later_steps_claims_have_their_step(tmp_path, lang):
    """z = W·x, L = ½‖z − y‖²: step 1 gives z = (1, 2), ∂L/∂W = (z − y)·xᵀ = [0, 0; 1, 2]
    and W = [1, 0; −0.5, 0]; step 2 gives z = (1, −0.5), L = ½(1 + 2.25) = 1.625,
    ∂L/∂W = [1, 0; −1.5, 0], W = [0.5, 0; 0.25, 0]; then L = ½(0.25 + 0.5625) = 0.40625."""
    spec = tmp_path / "two.toml"
    spec.write_text(TWO_STEPS, "utf-8")
    result = CliRunner().invoke(main, ["check", str(spec), "--lang", lang])
    assert result.exit_code == 0, result.output
    rows = _claim_rows(result.output, lang)
    # W's entry w₁₀ as the documents print it (notation.entries = "lowercase", the default)
    assert [r[:3] for r in rows] == [["∂L/∂w₁₀", "1", "1"], ["z", "2", "[1,"], ["L", "2", "1.625"],
                                     ["w₁₀⁽²⁾", "2", "0.25"], ["L⁽²⁾", "2", "0.40625"]]
    document = symprop.load(str(spec)).solution().document("text", lang=lang)
    for row in rows:  # the teacher's appendix names each claim the same way
        assert re.search(rf"^  {re.escape(row[0])} +{row[1]} ", document, re.M), row


def test_the_json_keeps_the_keys(tmp_path):
    spec = tmp_path / "two.toml"
    spec.write_text(TWO_STEPS, "utf-8")
    result = CliRunner().invoke(main, ["solve", str(spec), "--format", "json"])
    keys = [row["key"] for row in json.loads(result.output)["expected"]]
    assert keys == ["step.1.grad.W[1][0]", "step.2.value.z", "step.2.loss", "updated.W[1][0]", "final.loss"]
