"""``symprop check --lang ru|zh``: the report in the language asked for, its
frame and the engines' usual reasons (a skip, a sample); English by default,
as before.  The reasons given for a formula claim stay English (said in --help)."""

import re

import pytest
from click.testing import CliRunner

from symprop.cli import main

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
