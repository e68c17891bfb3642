"""Budgets measured before the work they bound (issue 23): tiny specs whose
exact numbers would grow without end, a variants grid of billions of points,
a product or a pass too large, JSON too long.  Each ends in seconds, with
numbers or with one line naming the limit."""

import math
import subprocess
import sys

import numpy as np
import pytest

import symprop
from symprop import api
from symprop.errors import SympropError


def one_line(text: str, origin: str = "s.toml"):
    with pytest.raises(SympropError) as refused:
        symprop.loads(text, origin=origin).solve()
    assert "\n" not in str(refused.value) and str(refused.value).startswith(origin)
    return str(refused.value)


POWERS = """
[model]
params = ["w"]
equations = \"\"\"
a = (w + 1)**1000
yhat = a**1000
\"\"\"
loss = "yhat"
[values]
w = 0.000001
"""


def _products(levels: int) -> str:
    """a, b, c each the product of two of the last: every line doubles the digits of the exact numbers."""
    lines = ["a0 = w + 1", "b0 = 1 - w", "c0 = 1 + 2*w"]
    for k in range(1, levels + 1):
        lines += [f"a{k} = a{k - 1}*b{k - 1}", f"b{k} = b{k - 1}*c{k - 1}", f"c{k} = c{k - 1}*a{k - 1}"]
    body = "\n".join(lines)
    return f'[model]\nparams = ["w"]\nequations = """\n{body}\n"""\nloss = "a{levels}"\n[values]\nw = 0.000001\n'


@pytest.mark.parametrize("text, loss", [
    (POWERS, math.exp(1e6 * math.log1p(1e-6))),  # (1 + 10⁻⁶)^(10⁶)
    (_products(29), None),  # the float of a29 is 2.8e155: a30 would overflow
])
def test_exact_numbers_that_would_grow_without_end_leave_the_floats_to_stand(text, loss):
    run = subprocess.run([sys.executable, "-m", "symprop", "solve", "-", "--format", "json"], input=text,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    import json

    numbers = json.loads(run.stdout)
    assert "exact" not in numbers
    if loss is not None:
        assert numbers["loss"] == pytest.approx(loss, rel=1e-9)


def test_floats_skip_the_exact_pass(monkeypatch):
    import symprop.evaluate.numeric as numeric

    def refuse(*_):
        raise AssertionError("the exact pass ran")

    monkeypatch.setattr(numeric, "exact_steps", refuse)
    problem = api.load_spec(api.resolve("udl_toy"))
    assert api.numbers(problem, exact=False).exact is None
    with pytest.raises(SympropError, match="exact pass ran"):  # it does without --floats
        api.numbers(problem)


def test_small_powers_are_still_exact():
    text = POWERS.replace("(w + 1)**1000", "(w + 1)**3").replace("a**1000", "a**2").replace("0.000001", "0.5")
    exact = symprop.loads(text).solve()["exact"]
    assert exact["loss"] == "729/64" and exact["gradients"]["w"] == "729/16"  # 1.5⁶, and 6·1.5⁵


ONE = """
[model]
params = ["w"]
equations = "z = w*x"
loss = "(z - y)**2"
[values]
w = {w}
x = 2.0
y = 1.0
"""


def test_a_large_value_draws_variants_from_its_grid_without_listing_it():
    specs = symprop.loads(ONE.format(w="1e9")).variants(3, seed=1).specs()
    for data in specs:
        w = data["values"]["w"]
        assert abs(w) <= 1e9 and w != 0 and (w * 2).is_integer()


def test_a_step_too_fine_is_one_line():
    with pytest.raises(SympropError, match=r"^s.toml: variants.step: is 1e-300: a step is at least 1e-06"):
        symprop.loads(ONE.format(w=0.5) + "[variants]\nstep = 1e-300\n", origin="s.toml")


def test_a_product_too_large_is_refused_from_the_shapes(tmp_path):
    np.save(tmp_path / "W.npy", np.ones((10_000, 10)))
    (tmp_path / "s.toml").write_text('[model]\nparams = ["W"]\nequations = "z = W @ W.T"\nloss = "sum(z)"\n'
                                     '[values]\nW = "W.npy"\n')
    with pytest.raises(SympropError, match="10000x10000 = 100000000 entries .the limit for one operation is"):
        symprop.load(tmp_path / "s.toml").solve()


RECURRENT = """
[model]
params = ["W"]
steps = {steps}
initial = {{ H = "H0.npy" }}
equations = "H[t] = tanh(W @ H[t-1])"
loss = "sum(H[t])"
[values]
W = "W.npy"
"""


def test_a_pass_of_too_many_multiply_adds_is_refused_before_it_runs(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "W.npy", rng.normal(0, 0.05, (316, 316)))
    np.save(tmp_path / "H0.npy", rng.normal(size=(316, 316)))
    (tmp_path / "s.toml").write_text(RECURRENT.format(steps=83))
    with pytest.raises(SympropError, match=r"a pass takes about 2.6\de\+09 multiply-adds \(the limit is 2e\+08\)"):
        symprop.load(tmp_path / "s.toml").solve()  # 83 steps of 316³ multiply-adds


def test_finite_differences_sample_fewer_entries_when_a_pass_is_costly(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "W.npy", rng.normal(0, 0.05, (300, 300)))
    np.save(tmp_path / "H0.npy", rng.normal(size=(300, 300)))
    (tmp_path / "s.toml").write_text(RECURRENT.format(steps=1))
    report = symprop.load(tmp_path / "s.toml").solve()["checks"]["finite_differences"]
    pass_work = 300**3 + 2 * 300 * 300  # the product, tanh and the sum
    sampled = int(report["sampled"].split(" of ")[0])  # within the work, one at least of each parameter
    assert report["passed"] and report["sampled"].endswith(" of 90000 parameter entries")
    assert 2 <= sampled <= 400_000_000 // (2 * pass_work) < 90000


def test_json_too_long_is_refused_and_the_text_still_written(tmp_path):
    np.save(tmp_path / "H0.npy", np.full((100, 100), 0.5))
    (tmp_path / "s.toml").write_text('[model]\nparams = ["w"]\nsteps = 60\ninitial = { H = "H0.npy" }\n'
                                     'equations = "H[t] = tanh(w * H[t-1])"\nloss = "sum(H[t])"\n[values]\nw = 0.5\n')
    problem = symprop.load(tmp_path / "s.toml")
    with pytest.raises(SympropError, match=r"the JSON would hold 1210121 numbers \(the limit is 1000000\)"):
        problem.solve()  # H[0..60] and L[1..60], 60 adjoints of 10,000, w's gradient, 60 norms of ∂L/∂Hₜ
    assert "(100×100)" in problem.solution().document("text")  # a large value by its shape


def test_a_dimension_above_ten_thousand_is_refused():
    text = ONE.format(w=0.5).replace("x = 2.0", "x = [" + ", ".join(["1"] * 20_000) + "]")
    assert "values.x: is 20000: a dimension is at most 10000" in one_line(text.replace("(z - y)**2", "sum(z)"))


def test_a_deep_chain_derives_as_json_without_its_closed_form():
    """tanh(w·tanh(w·…)) of 300 lines: small, but nested past what SymPy's printers recurse through."""
    lines = ["h0 = tanh(w*x)"] + [f"h{k} = tanh(w*h{k - 1})" for k in range(1, 300)]
    body = "\n".join(lines)
    problem = api.loads(f'[model]\nparams = ["w"]\nequations = """\n{body}\n"""\nloss = "h299"\n').spec
    derivation = api.derivation_json(problem)
    assert derivation["gradients"]["w"]["closed_form"] is None
    # w enters every line: ∂L/∂w = Σₖ ∂L/∂hₖ·hₖ₋₁·(1 − hₖ²), 300 terms
    assert derivation["gradients"]["w"]["adjoint_form"]["text"].count(" + ") == 299
    assert len(derivation["nodes"]) == 301
