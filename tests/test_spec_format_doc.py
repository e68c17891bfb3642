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
