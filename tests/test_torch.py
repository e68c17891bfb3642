"""PyTorch autograd in float64 on the same graph: the shipped specs, the
relu'(0) convention at a kink, and random programs, MLPs and RNNs where
symprop = PyTorch = finite differences.

Skipped, saying why, where torch is not installed, unless
SYMPROP_REQUIRE_ENGINES=1 (the README's test command installs torch).
"""

import os

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import symprop
from symprop.api import from_dict
from symprop.cli import main
from symprop.evaluate.torch_check import available, torch_gradients
from tests.conftest import DERIVATIONS
from tests.test_property_matrix import mlp_spec, mlps, rnn_spec, rnns
from tests.test_property_scalar import close_to_fd, program_spec, programs, reference_pass

if not available():
    if os.environ.get("SYMPROP_REQUIRE_ENGINES"):
        raise RuntimeError("torch is not installed (the README's test command installs it)")
    pytest.skip("torch is not installed: pip install 'symprop[torch]'", allow_module_level=True)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WITH_VALUES = [p.stem for p in sorted(DERIVATIONS.glob("*.toml")) if symprop.load(p.stem).values]


@pytest.mark.parametrize("name", WITH_VALUES)
def test_every_shipped_spec_agrees_with_torch_and_fd(name):
    problem = symprop.load(name)
    report, ok = problem.check("all")
    assert "PyTorch autograd (float64)" in report
    solution = problem.solution()
    theirs = torch_gradients(problem)
    for param, g in solution.first.gradients.items():
        assert np.allclose(g, theirs[param], rtol=1e-12, atol=1e-12), param
    # The engines agree everywhere; only the sources' printed claims (seeds 000, 004) are wrong.
    assert ok == (name not in ("masha_rnn", "dlbook_rnn")), report


KINK = """
title = "relu at its kink"
[model]
params = ["w"]
equations = "z = relu(w - 1)"
loss = "3*z"
[values]
w = 1.0
"""


def test_relu_prime_at_zero_matches_pytorch(spec_file):
    problem = symprop.load(spec_file(KINK))
    assert problem.solve()["gradients"]["w"] == 0.0
    assert torch_gradients(problem)["w"] == 0.0
    assert CliRunner().invoke(main, ["check", str(spec_file(KINK)), "--against", "torch"]).exit_code == 0


def test_another_convention_disagrees_with_pytorch_and_says_so(spec_file):
    path = spec_file(KINK + "[conventions]\nrelu_grad_at_zero = 1\n")
    assert symprop.load(path).solve()["gradients"]["w"] == 3.0
    result = CliRunner().invoke(main, ["check", str(path), "--against", "torch"])
    assert result.exit_code == 1
    assert "PyTorch autograd (float64): max abs error 3.00e+00" in result.stdout


@SETTINGS
@given(programs())
def test_random_programs_symprop_torch_fd(program):
    lines, values = program
    spec, used = program_spec(lines, values)
    found = reference_pass(lines, values, used)
    if found is None:
        return
    reference, fds = found
    problem = from_dict(spec)
    ours = problem.solve()["gradients"]
    theirs = torch_gradients(problem)
    for p, fd in fds.items():
        assert np.isclose(ours[p], theirs[p], rtol=1e-9, atol=1e-9), (spec, p)
        if fd is not None:
            assert close_to_fd(theirs[p], fd, reference)


def assert_same_as_torch(spec: dict, names) -> None:
    problem = from_dict(spec)
    ours = problem.solve()["gradients"]
    theirs = torch_gradients(problem)
    for name in names:
        assert np.allclose(np.asarray(ours[name], float).reshape(np.shape(theirs[name])), theirs[name],
                           rtol=1e-9, atol=1e-10), name


@SETTINGS
@given(mlps())
def test_random_mlps_symprop_torch(case):
    params = case[0]
    assert_same_as_torch(mlp_spec(*case), params)


@SETTINGS
@given(rnns())
def test_random_vector_rnns_symprop_torch(case):
    assert_same_as_torch(rnn_spec(*case), case[0])
