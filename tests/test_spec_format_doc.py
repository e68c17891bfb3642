"""Every example in docs/spec-format.md runs as written, and its claims hold."""

import re
import subprocess
import sys

import pytest

import symprop
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "spec-format.md").read_text("utf-8")
TOML = re.findall(r"```toml\n(.*?)```", DOC, re.S)
PYTHON = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_the_page_has_examples():
    assert len(TOML) >= 5 and PYTHON


@pytest.mark.parametrize("index", range(len(TOML)))
def test_toml_example_solves(index):
    problem = symprop.loads(TOML[index], origin=f"docs/spec-format.md example {index + 1}")
    assert problem.gradients()
    if problem.values:
        numbers = problem.solve()
        assert numbers["checks"]["finite_differences"]["passed"]
        for row in numbers.get("expected", []):
            assert row["ok"], row
            if "verdict" in row:  # a number: "truncated" only where the example's comment says so
                line = next(line for line in TOML[index].splitlines()
                            if re.match(rf'"?{re.escape(row["key"])}"?\s*=', line))
                marked = "# truncated" in line
                assert row["verdict"] == ("truncated" if marked else "ok"), row


def test_the_first_example_claims_what_a_hand_computation_gives():
    """f0 = 1 + 0.1·2.3, h1 = sin f0, f1 = 2 − 0.4·h1; ∂L/∂ω1 = 2(f1 − 2)·h1."""
    import math

    h1 = math.sin(1 + 0.1 * 2.3)
    f1 = 2 - 0.4 * h1
    claimed = float(re.search(r'"grad.omega1" = (\S+)', TOML[0]).group(1))
    assert claimed == pytest.approx(2 * (f1 - 2) * h1, abs=1e-4)


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_example_runs(index):
    run = subprocess.run([sys.executable, "-c", PYTHON[index]], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr


def _example(title: str) -> str:
    return next(t for t in TOML if f'title = "{title}"' in t)


def test_the_check_table_printed_is_the_one_check_prints():
    example = _example("A Step by Step Backpropagation Example")
    shown = re.search(r"`symprop check` on it:\n\n```text\n(.*?)```", DOC, re.S).group(1)
    report, ok = symprop.loads(example).check(against="fd")
    assert ok
    lines = [line.rstrip() for line in report.splitlines()]
    for line in shown.splitlines():
        assert line.rstrip() in lines, line


def test_mazur_by_hand():
    """Mazur's network in NumPy: the claimed loss, ∂L/∂w5, w5 and w1 after the
    update (lr 0.5), net_o1 (1.1059, printed truncated as 1.10), and the loss
    after the update, which the post prints as 0.291027924."""
    import numpy as np

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    i, t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
    w1, w2 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])

    def forward(w1, w2):
        h = sigmoid(w1 @ i + 0.35)
        net = w2 @ h + 0.60
        return h, net, sigmoid(net)

    h, net, o = forward(w1, w2)
    d = (o - t) * o * (1 - o)
    g2, g1 = np.outer(d, h), np.outer((w2.T @ d) * h * (1 - h), i)
    new1, new2 = w1 - 0.5 * g1, w2 - 0.5 * g2
    final = 0.5 * np.sum((t - forward(new1, new2)[2]) ** 2)
    claims = {k: v for k, v in re.findall(r'^"?([\w.]+)"? = (?:\{ value = )?([-\d.]+)', _example(
        "A Step by Step Backpropagation Example"), re.M)}
    assert float(claims["loss"]) == pytest.approx(0.5 * np.sum((t - o) ** 2), abs=1e-9)
    assert float(claims["value.o1"]) == pytest.approx(o[0], abs=1e-8)
    assert float(claims["value.n1"]) == np.trunc(net[0] * 100) / 100 != np.round(net[0], 2)
    assert float(claims["grad.w5"]) == pytest.approx(g2[0, 0], abs=5e-10)
    assert float(claims["updated.w5"]) == pytest.approx(new2[0, 0], abs=1e-8)
    assert float(claims["updated.w1"]) == pytest.approx(new1[0, 0], abs=1e-9)
    assert final == pytest.approx(0.2910277737, abs=1e-10)
    assert abs(float(claims["final.loss"]) - final) < 1e-6 and round(final, 9) != float(claims["final.loss"])


def test_two_observations_by_hand():
    import numpy as np

    w = np.eye(2)
    seen = {}
    for k, (x, y) in enumerate([([1, 2], [1, 1]), ([1, 0], [0, 1])], start=1):
        x, y = np.array(x, float), np.array(y, float)
        z = w @ x
        g = np.outer(z - y, x)
        seen[k] = {"z": z, "loss": 0.5 * np.sum((z - y) ** 2), "grad": g}
        w = w - 0.5 * g
    example = _example("Two observations, one step each")
    assert seen[1]["loss"] == 0.5 and seen[1]["grad"].tolist() == [[0, 0], [1, 2]]
    assert seen[2]["z"].tolist() == [1, -0.5] and seen[2]["loss"] == 1.625 and seen[2]["grad"][1].tolist() == [-1.5, 0]
    assert w.tolist() == [[0.5, 0], [0.25, 0]] and 0.5 * np.sum((w @ [1, 0] - [0, 1]) ** 2) == 0.40625
    for claim in ['"step.1.loss" = 0.5', '"step.1.grad.W" = [[0, 0], [1, 2]]', '"step.2.value.z" = [1, -0.5]',
                  '"step.2.loss" = 1.625', '"step.2.grad.W[1]" = [-1.5, 0]', '"updated.W" = [[0.5, 0], [0.25, 0]]',
                  '"final.loss" = 0.40625']:
        assert claim in example
