"""Finite differences on a long sequence: along one random direction of each
parameter (every entry of a gradient enters through its projection), within a
budget of time steps, and still failing on a gradient that is wrong in one entry."""

import numpy as np
import pytest

import symprop
from symprop.api import from_dict
from symprop.evaluate import numeric
from symprop.evaluate.checks.finite_differences import FiniteDifferences


def rnn_spec(steps: int, n: int = 3) -> dict:
    rng = np.random.default_rng(5)
    return {
        "title": f"vector RNN, T = {steps}",
        "model": {"params": ["W", "U", "b", "v"], "steps": steps, "initial": {"h": [0.0] * n},
                  "equations": "h[t] = tanh(W @ h[t-1] + U @ x[t] + b)\nyhat[t] = v * sum(h[t])",
                  "loss": "(yhat[t] - y[t])**2"},
        "values": {"W": (rng.normal(size=(n, n)) / 2).tolist(), "U": rng.normal(size=(n, 2)).tolist(),
                   "b": rng.normal(size=n).tolist(), "v": 0.7,
                   "x": rng.normal(size=(steps + 1, 2)).tolist(), "y": rng.normal(size=steps + 1).tolist()},
    }


def machine_and_run(steps: int):
    problem = from_dict(rnn_spec(steps))
    machine = problem.compiled()
    return machine, machine.run(problem.values)


def test_a_long_sequence_goes_along_directions_within_the_budget(monkeypatch):
    machine, run = machine_and_run(2000)
    passes = []
    loss_at = machine.loss_at
    monkeypatch.setattr(machine, "loss_at", lambda values: passes.append(1) or loss_at(values))
    report = numeric.finite_differences(machine, run)
    assert report["passed"]
    assert report["directions"] == ("W", "U", "b")
    assert report["sampled"] == (1, 19)  # v, a scalar; no steps left for more
    words = FiniteDifferences(**report).to_json()
    assert words["directions"] == "one random direction of each of W, U, b"
    assert words["sampled"] == "1 of 19 parameter entries"
    assert len(passes) == 2 * 4 and len(passes) * 2000 <= numeric.FD_STEPS


def test_a_shorter_sequence_adds_single_entries():
    machine, run = machine_and_run(1000)  # 10 differences: W, U, b along a direction, v, and 6 entries
    report = numeric.finite_differences(machine, run)
    assert report["passed"] and report["directions"] == ("W", "U", "b")
    assert report["sampled"] == (7, 19)


def test_a_short_sequence_differences_every_entry():
    machine, run = machine_and_run(500)  # 20 differences allowed, 19 entries
    report = numeric.finite_differences(machine, run)
    assert report["passed"] and "directions" not in report and "sampled" not in report


@pytest.mark.parametrize("param, entry", [("W", (2, 1)), ("U", (0, 0)), ("b", (1, 0))])
def test_a_gradient_wrong_in_one_entry_fails_along_its_direction(param, entry):
    machine, run = machine_and_run(2000)
    wrong = np.array(run.adjoints[param], dtype=float)
    wrong[entry] += 1e-3 * max(1.0, float(np.max(np.abs(wrong))))
    run.adjoints[param] = wrong
    report = numeric.finite_differences(machine, run)
    assert not report["passed"] and report["disagree"] == [param]


def test_a_steep_loss_is_differenced_again_at_smaller_steps():
    """(w + 1)**1000000 at w = 1e-6: its third derivative (about 2.7e18) makes the
    central difference at h = 1e-6 wrong by about 5e5; at a thousandth of the step
    it agrees with the gradient 10**6·(1 + w)**999999."""
    fd = symprop.loads(STEEP).solve()["checks"]["finite_differences"]
    assert fd["passed"] and fd["max_rel_error"] < 1e-6, fd
    assert symprop.loads(STEEP).solve()["gradients"]["w"] == pytest.approx(1e6 * (1 + 1e-6) ** 999999, rel=1e-9)


STEEP = ('[model]\nparams = ["w"]\nequations = """\na = (w + 1)**1000\nyhat = a**1000\n"""\n'
         'loss = "yhat"\n[values]\nw = 0.000001\n')


@pytest.mark.parametrize("off", [1e-3, 1e-4])  # the tolerance is 1e-5
def test_a_wrong_gradient_of_a_steep_loss_still_fails(off):
    """Smaller steps count only where the gap shrinks with the step: a gradient off by a
    fraction keeps its gap, at every step."""
    problem = symprop.loads(STEEP)
    machine = problem.compiled().machine
    run = machine.run(problem.values)
    run.adjoints["w"] = float(run.adjoints["w"]) * (1 + off)
    report = numeric.finite_differences(machine, run)
    assert not report["passed"] and report["disagree"] == ["w"]
