"""Seed 003 (UDL notebook 7.1): every number the notebook prints, and an
independent NumPy pass written the way the notebook writes it."""

import math

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main

# The "true values" printed by the notebook, to 3 decimals.
FORWARD = {"f0": 1.230, "h1": 0.942, "f1": 1.623, "h2": 5.068, "f2": 7.137, "h3": 0.657, "f3": 2.372}
ADJOINTS = {"f3": 0.745, "h3": 2.234, "f2": -1.683, "h2": -3.366, "f1": -17.060, "h1": 6.824, "f0": 2.281}
GRADIENTS = {
    "beta3": 0.745, "omega3": 0.489, "beta2": -1.683, "omega2": -8.530,
    "beta1": -17.060, "omega1": -16.079, "beta0": 2.281, "omega0": 5.246,
}
P = dict(beta0=1.0, beta1=2.0, beta2=-3.0, beta3=0.4, omega0=0.1, omega1=-0.4, omega2=2.0, omega3=3.0)
X, Y = 2.3, 2.0


def notebook_pass():
    """The notebook's own forward and backward pass, in plain math."""
    f0 = P["beta0"] + P["omega0"] * X
    h1 = math.sin(f0)
    f1 = P["beta1"] + P["omega1"] * h1
    h2 = math.exp(f1)
    f2 = P["beta2"] + P["omega2"] * h2
    h3 = math.cos(f2)
    f3 = P["beta3"] + P["omega3"] * h3
    dldf3 = 2 * (f3 - Y)
    dldh3 = P["omega3"] * dldf3
    dldf2 = -math.sin(f2) * dldh3
    dldh2 = P["omega2"] * dldf2
    dldf1 = math.exp(f1) * dldh2
    dldh1 = P["omega1"] * dldf1
    dldf0 = math.cos(f0) * dldh1
    grads = {
        "beta3": dldf3, "omega3": dldf3 * h3, "beta2": dldf2, "omega2": dldf2 * h2,
        "beta1": dldf1, "omega1": dldf1 * h1, "beta0": dldf0, "omega0": dldf0 * X,
    }
    return (f3 - Y) ** 2, grads


@pytest.fixture(scope="module")
def solved():
    return symprop.load("udl_toy").solve()


def test_loss_matches_notebook(solved):
    assert round(solved["loss"], 3) == 0.139


@pytest.mark.parametrize("name,value", FORWARD.items())
def test_forward_values(solved, name, value):
    assert round(solved["values"][name], 3) == pytest.approx(value)


@pytest.mark.parametrize("name,value", ADJOINTS.items())
def test_adjoints(solved, name, value):
    assert round(solved["adjoints"][name], 3) == pytest.approx(value)


@pytest.mark.parametrize("name,value", GRADIENTS.items())
def test_gradients_to_three_decimals(solved, name, value):
    assert round(solved["gradients"][name], 3) == pytest.approx(value)


def test_gradients_match_independent_pass_exactly(solved):
    loss, grads = notebook_pass()
    assert solved["loss"] == pytest.approx(loss, rel=1e-12)
    for name, g in grads.items():
        assert solved["gradients"][name] == pytest.approx(g, rel=1e-12)


def test_notebook_closed_form_for_omega0():
    """The notebook's hand-written dl/domega0 agrees with our closed form."""
    g = symprop.load("udl_toy").gradients()["omega0"]
    subs = {s: {**P, "x": X, "y": Y}[s.name] for s in g.free_symbols}
    b0, b1, b2, b3 = P["beta0"], P["beta1"], P["beta2"], P["beta3"]
    w0, w1, w2, w3 = P["omega0"], P["omega1"], P["omega2"], P["omega3"]
    inner = b1 + w1 * math.sin(b0 + w0 * X)
    notebook = (
        -2 * (b3 + w3 * math.cos(b2 + w2 * math.exp(inner)) - Y)
        * w1 * w2 * w3 * X * math.cos(b0 + w0 * X) * math.exp(inner)
        * math.sin(b2 + w2 * math.exp(inner))
    )
    assert float(g.xreplace(subs)) == pytest.approx(notebook, rel=1e-12)
    assert notebook == pytest.approx(5.246, abs=5e-4)


def test_finite_differences_pass(solved):
    fd = solved["checks"]["finite_differences"]
    assert fd["passed"] and fd["max_rel_error"] < 1e-6


def test_check_command_passes():
    result = CliRunner().invoke(main, ["check", "udl_toy"])
    assert result.exit_code == 0, result.output
    assert "23 of 23 claims agree" in result.output
