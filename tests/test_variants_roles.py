"""Variants keep what a value means (issue 23): [variants] roles (one-hot,
distribution, probability, positive), the obvious ones inferred (a label that
is one-hot, or sums to 1, under softmax), and every shipped problem's variant
passes symprop's own checks."""

import numpy as np
import pytest

import symprop
from symprop.api import shipped
from symprop.errors import SympropError

SOFTMAX = """
[model]
params = ["W"]
equations = \"\"\"
z = W @ x
s = log_softmax(z)
\"\"\"
loss = "-sum(y * s)"
[values]
W = [[0.5, -1], [1, 0.5], [-0.5, 1]]
x = [1, 2]
"""


def drawn(text: str, name: str, count: int = 12) -> list[np.ndarray]:
    return [np.array(d["values"][name], dtype=float) for d in symprop.loads(text).variants(count, seed=3).specs()]


def test_a_one_hot_label_under_softmax_stays_one_hot():
    for y in drawn(SOFTMAX + "y = [0, 1, 0]\n", "y"):
        assert sorted(y.tolist()) == [0.0, 0.0, 1.0], y


def test_a_distribution_under_softmax_stays_a_distribution():
    ys = drawn(SOFTMAX + "y = [0.2, 0.5, 0.3]\n", "y")
    for y in ys:
        assert np.all(y > 0) and y.sum() == pytest.approx(1.0, abs=1e-12), y
        assert np.allclose(y * 10, np.round(y * 10)), y  # tenths: numbers worked by hand
    assert len({tuple(y) for y in ys}) > 3


def test_a_label_without_softmax_is_drawn_as_any_number():
    text = SOFTMAX.replace("log_softmax(z)", "tanh(z)") + "y = [0, 1, 0]\n"
    assert any(sorted(y.tolist()) != [0.0, 0.0, 1.0] for y in drawn(text, "y"))


@pytest.mark.parametrize("role, holds", [
    ("one-hot", lambda y: sorted(y.tolist()) == [0.0, 0.0, 1.0]),
    ("distribution", lambda y: np.all(y > 0) and abs(y.sum() - 1) < 1e-12),
    ("probability", lambda y: np.all((0 < y) & (y < 1))),
    ("positive", lambda y: np.all(y > 0)),
])
def test_a_role_said_in_the_spec_holds_for_every_variant(role, holds):
    text = SOFTMAX.replace("log_softmax(z)", "tanh(z)") + f'y = [0.5, -1, 2]\n[variants]\ny = "{role}"\n'
    ys = drawn(text, "y")
    assert all(holds(y) for y in ys), ys


def test_a_one_hot_matrix_is_one_hot_row_by_row():
    text = """
[model]
params = ["W"]
equations = "P = softmax(X @ W, 1)"
loss = "-sum(Y * log(P))"
[values]
W = [[0.5, -1, 0], [1, 0.5, 2]]
X = [[1, 2], [0, 1]]
Y = [[1, 0, 0], [0, 0, 1]]
"""
    for y in drawn(text, "Y"):
        assert y.shape == (2, 3) and np.all(y.sum(axis=1) == 1) and set(np.unique(y)) == {0.0, 1.0}, y


@pytest.mark.parametrize("extra, words", [
    ('[variants]\ny = "onehot"\n', "variants.y: must be [low, high] or a role (one-hot, distribution"),
    ('[variants]\nW = "one-hot"\n', None),
    ("[variants]\nx = 3\n", "variants.x: must be [low, high] with low < high, or a role"),
])
def test_a_bad_role_is_one_line(extra, words):
    text = SOFTMAX + "y = [0, 1, 0]\n" + extra
    if words is None:  # a matrix may be one-hot, row by row
        symprop.loads(text)
        return
    with pytest.raises(SympropError, match=words.replace("(", r"\(").replace("[", r"\[")):
        symprop.loads(text)


def test_a_one_hot_number_is_refused():
    text = SOFTMAX.replace('loss = "-sum(y * s)"', 'loss = "-sum(y * s) * k"') + 'y = [0, 1, 0]\nk = 2\n'
    with pytest.raises(SympropError, match="variants.k: a one-hot value is a vector"):
        symprop.loads(text + '[variants]\nk = "one-hot"\n')


@pytest.mark.parametrize("name", [n for n in shipped() if symprop.load(n).spec.values])
def test_a_variant_of_every_shipped_problem_passes_check(name):
    """The engine's own checks (finite differences, the scalar engine, the matrix
    form) and the variant's answers in [expected]: dlbook_rnn's one-hot y once
    became [2, 0, 0], and ∂L/∂oₜ = ŷₜ − yₜ, which needs a y that sums to 1, failed."""
    for k, data in enumerate(symprop.load(name).variants(1, seed=11).specs()):
        report, ok = symprop.from_dict(data, f"{name}-{k}").check(against="fd")
        assert ok, report


def test_the_reference_example_draws_what_the_page_says():
    import re

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "spec-format.md").read_text("utf-8")
    example = next(t for t in re.findall(r"```toml\n(.*?)```", doc, re.S) if "soft label" in t)
    for data in symprop.loads(example).variants(8, seed=2).specs():
        values = data["values"]
        assert len(values["y"]) == 3 and sum(values["y"]) == pytest.approx(1, abs=1e-12)
        assert all(v * 10 == round(v * 10) and v > 0 for v in values["y"])
        assert values["q"] in [k / 10 for k in range(1, 10)]
        assert all(abs(v) in (0.25, 0.5, 0.75, 1.0) for v in values["x"])
