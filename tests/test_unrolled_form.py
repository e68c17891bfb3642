"""Issue 25, item 3: every printed formula through time is evaluated.

masha_rnn's part б prints the recursion ∂L/∂hₜ, the sums over t of each
gradient and ∂L₃/∂v, ∂L₃/∂w written out term by term (with the general
∂Lₜ/∂p = Σₖ …).  Each is evaluated with the pass's numbers (the
``unrolled_form`` check) and compared here with a BPTT written by hand in
rationals (forward-mode: each h carries its derivatives by u, v, w); a form
with a term taken away is caught; the check speaks in ``symprop check`` in
English, Russian and Chinese and in the teacher's appendix."""

import tomllib
from fractions import Fraction as F

import numpy as np
import pytest
import sympy
from click.testing import CliRunner

import symprop
import symprop.evaluate.unrolled as engine
from symprop.cli import main
from symprop.derive.backprop import derivation_of
from symprop.derive.bptt import bptt
from symprop.derive.program import program_of
from symprop.evaluate.arrays import Machine
from symprop.evaluate.check import run_checks
from symprop.evaluate.numeric import solve
from symprop.model import spec
from symprop.model.shipped import resolve

# masha_rnn's cell: h_t = relu(w·h_{t−1} + v·y_{t−1}), ŷ_t = relu(u·h_t), L_t = (y_t − ŷ_t)²
SHIPPED = dict(u=F(1, 2), v=F(1, 2), w=F(1, 2), y=[0, 1, -1, 2])  # relu at 0 at step 1, off at step 3
ACTIVE = dict(u=F(1, 2), v=F(4, 5), w=F(3, 5), y=[1, 1, 2, 1])  # every relu on


def by_hand(u, v, w, y):
    """∂L_t/∂(u, v, w) of each step's loss alone, and ∂L/∂(u, v, w), in rationals (relu′(0) = 0)."""
    h, dh = F(0), {"u": F(0), "v": F(0), "w": F(0)}  # h_t and dh_t/dp, back through every step
    per_step = {}
    for t in range(1, len(y)):
        z = w * h + v * y[t - 1]
        on = 1 if z > 0 else 0
        dh = {"u": on * w * dh["u"], "v": on * (w * dh["v"] + y[t - 1]), "w": on * (w * dh["w"] + h)}
        h = z * on
        a = u * h
        on_out = 1 if a > 0 else 0
        dL_dyhat = 2 * (a * on_out - y[t])
        per_step[t] = {p: dL_dyhat * on_out * (u * dh[p] + (h if p == "u" else 0)) for p in "uvw"}
    total = {p: sum(g[p] for g in per_step.values()) for p in "uvw"}
    return per_step, total


def problem_at(values, drop_values: bool = False):
    """masha_rnn with these numbers (none: ``drop_values``), without the source's claims."""
    with open(resolve("masha_rnn"), "rb") as f:
        data = tomllib.load(f)
    data.pop("expected")
    data["values"] = {k: ([float(x) for x in v] if isinstance(v, list) else float(v)) for k, v in values.items()}
    if drop_values:
        del data["values"], data["training"]
    return spec.from_dict(data, "masha_rnn.toml")


def evaluated(values):
    """The printed forms' values: ∂L_t/∂p written out (by t and p), the sums over t (by p), and the check's result."""
    problem = problem_at(values)
    solution = solve(problem, exact=False)
    machine = Machine(program_of(problem), 0.0)
    run = machine.run(dict(problem.values))
    b = bptt(derivation_of(problem))
    numbers, tally = engine._Numbers(machine, run), engine._Tally()
    engine.recursion(b, numbers, tally)
    params = {p.name: p for p in b.params}
    unrolled = {(t, name): engine.unrolled_sum(b, numbers, t, params[name]) for t in range(1, 4) for name in "vw"}
    sums = {name: engine.sum_over_steps(b, numbers, params[name]) for name in "uvw"}
    return unrolled, sums, solution.checks["unrolled_form"]


@pytest.mark.parametrize("values", [SHIPPED, ACTIVE], ids=["shipped", "active"])
@pytest.mark.parametrize("name", ["v", "w"])
def test_the_unrolled_form_of_each_step_loss_is_the_hand_written_bptt(values, name):
    per_step, _ = by_hand(**values)
    unrolled, _, _ = evaluated(values)
    for t in (1, 2, 3):
        assert unrolled[t, name] == pytest.approx(float(per_step[t][name]), abs=1e-12)
    if values is ACTIVE:  # every path counts: ∂L₃/∂w is not its last term alone
        assert abs(float(per_step[3][name])) > 0.1


def test_the_unrolled_form_of_u_is_not_printed_and_not_compared():
    """u enters no state: the document writes no ∂L₃/∂u term by term, and the check compares none."""
    _, _, result = evaluated(ACTIVE)
    assert result.unrolled == ("v", "w")


@pytest.mark.parametrize("values", [SHIPPED, ACTIVE], ids=["shipped", "active"])
@pytest.mark.parametrize("name", ["u", "v", "w"])
def test_the_sum_over_t_of_each_gradient_is_the_hand_written_bptt(values, name):
    _, total = by_hand(**values)
    _, sums, _ = evaluated(values)
    assert sums[name] == pytest.approx(float(total[name]), abs=1e-12)


@pytest.mark.parametrize("values", [SHIPPED, ACTIVE], ids=["shipped", "active"])
def test_the_check_compares_every_printed_form(values):
    """6 recursion values (ŷₜ, hₜ for t = 3, 2, 1), 3 sums, 2 × 3 written out."""
    _, _, result = evaluated(values)
    assert result.passed and result.compared == 15 and result.max_abs_error < 1e-12
    assert result.to_json() == {"compared": 15, "max_abs_error": result.max_abs_error, "passed": True,
                                "unrolled": ["v", "w"]}


def _broken(monkeypatch, how):
    real = engine.bptt

    def broken(derivation):
        b = real(derivation)
        how(b)
        return b

    monkeypatch.setattr(engine, "bptt", broken)


def _off_by_one_step(b):  # ∂⁺hₖ/∂p read at step k + 1: hₜ for hₜ₋₁, yₜ for yₜ₋₁
    for p in b.params:
        if p.immediate:
            e = p.immediate["h"]
            p.immediate["h"] = e.xreplace({s: sympy.Symbol(s.name.replace("[t-1]", "[t]"), real=True)
                                           for s in e.free_symbols})


def _no_transition(b):  # the product Πᵢ ∂hᵢ/∂hᵢ₋₁ taken away: only the k = t term is left
    b.transition["h"] = b.transition["h"] * 0


def _no_next_step(b):  # the recursion without its step t + 1
    for r in b.recursions:
        r.next_step = r.next_step * 0


def _summand_halved(b):
    b.params[2].adjoint_form = b.params[2].adjoint_form / 2


@pytest.mark.parametrize("how, where", [(_off_by_one_step, "dL["), (_no_transition, "dL["),
                                        (_no_next_step, "dL/dh["), (_summand_halved, "dL/dw")])
def test_a_broken_form_is_caught(monkeypatch, how, where):
    """Each form alone: a term of ∂Lₜ/∂p written out, of the recursion, of a sum over t."""
    _broken(monkeypatch, how)
    problem = problem_at(ACTIVE)
    result = solve(problem, exact=False).checks["unrolled_form"]
    assert not result.passed and result.max_abs_error > 1e-3
    assert result.to_json()["worst"].startswith(where)


@pytest.mark.parametrize("lang, name, words", [
    ("en", "formulas through time, evaluated: 15 derivatives", "written out term by term for v, w"),
    ("ru", "формулы во времени, вычисленные на числах: сравнено производных: 15", "расписанные по слагаемым"),
    ("zh", "随时间展开的公式，代入数值：15 个导数", "逐项展开"),
])
def test_symprop_check_reports_it(lang, name, words):
    result = CliRunner().invoke(main, ["check", "masha_rnn", "--lang", lang])
    assert name in result.output and words in result.output, result.output


def test_without_numbers_it_runs_at_random_values():
    result = run_checks(problem_at(ACTIVE, drop_values=True)).checks["unrolled_form"]
    assert result.passed and result.at == "random values" and result.compared == 15


def _dlbook_by_hand(t_loss: int):
    """dlbook_rnn's ∂L_t/∂(W, U, b) of one step's loss alone, by a BPTT written here in NumPy."""
    v = spec.load(resolve("dlbook_rnn")).values
    W, U, V, b, c = (np.asarray(v[k], dtype=float) for k in ("W", "U", "V", "b", "c"))
    b, c = b.reshape(-1), c.reshape(-1)
    x, y = (np.asarray(v[k], dtype=float).reshape(4, -1) for k in ("x", "y"))
    hs = [np.zeros(2)]
    for t in range(1, 4):
        hs.append(np.tanh(b + W @ hs[-1] + U @ x[t]))
    o = c + V @ hs[t_loss]
    yhat = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
    delta = V.T @ (yhat - y[t_loss])
    grads = {"W": np.zeros((2, 2)), "U": np.zeros((2, 2)), "b": np.zeros(2)}
    for t in range(t_loss, 0, -1):
        da = (1 - hs[t] ** 2) * delta
        grads["W"] += np.outer(da, hs[t - 1])
        grads["U"] += np.outer(da, x[t])
        grads["b"] += da
        delta = W.T @ da
    return grads


def test_a_cell_of_vectors_writes_out_products_of_jacobians(monkeypatch):
    """dlbook_rnn: ∂L⁽ᵗ⁾/∂W, ∂L⁽ᵗ⁾/∂U, ∂L⁽ᵗ⁾/∂b written out, evaluated entry by entry, are a NumPy BPTT's."""
    seen = {}
    real = engine._Tally.add

    def add(self, where, mine, theirs):
        seen[where] = mine
        real(self, where, mine, theirs)

    monkeypatch.setattr(engine._Tally, "add", add)
    result = solve(spec.load(resolve("dlbook_rnn")), exact=False).checks["unrolled_form"]
    assert result.passed and result.compared == 30 and result.unrolled == ("W", "U", "b")
    for t in (1, 2, 3):
        hand = _dlbook_by_hand(t)
        for p in ("W", "U", "b"):
            ours = [seen[f"dL[{t}]/d{p}[{i}]"] for i in range(hand[p].size)]
            assert ours == pytest.approx(hand[p].reshape(-1).tolist(), abs=1e-12)


def test_a_broken_product_of_jacobians_is_caught(monkeypatch):
    real = engine._vector_forms

    def broken(*args):
        jacobian, step_loss, immediate = real(*args)
        return [[0 * e for e in row] for row in jacobian], step_loss, immediate

    monkeypatch.setattr(engine, "_vector_forms", broken)
    result = solve(spec.load(resolve("dlbook_rnn")), exact=False).checks["unrolled_form"]
    assert not result.passed and result.worst.startswith("dL[")


def test_a_loss_after_the_loop_is_written_out_at_the_last_step():
    """gru: L = sum((V·h₃ − y)²)/2 reads h₃ alone; ∂L/∂p written out at t = 3 for the cell's weights."""
    result = solve(spec.load(resolve("gru")), exact=False).checks["unrolled_form"]
    assert result.passed and result.last_step_only and "V" not in result.unrolled and result.compared == 54


def test_several_states_have_no_written_out_form_to_evaluate():
    """lstm carries h and c: the document leaves ∂Lₜ/∂p term by term out, and the check has nothing to say."""
    assert "unrolled_form" not in solve(spec.load(resolve("lstm")), exact=False).checks


def test_lstm_still_leaves_the_term_by_term_form_out():
    """Several states: a product along h alone would drop the paths through c; the document says so."""
    text = CliRunner().invoke(main, ["derive", "lstm", "--format", "text", "--lang", "en"]).output
    assert "not written term by term" in text and "∂⁺" not in text


def test_the_initial_state_s_gradient_is_printed_and_evaluated():
    """h₀ a parameter: ∂L/∂h₀ is printed as ∂L/∂h₁ carried one step back (it read 0 before this check
    caught it), and evaluated; the loss after the loop reads h₃: ∂L/∂w written out at t = 3."""
    from tests.test_initial_param import SCALAR

    problem = symprop.loads(SCALAR)
    assert "∂L/∂h₀ = ∂L/∂h₁·(1 - h₁²)·w" in problem.document(fmt="text", lang="en")
    result = solve(problem.spec, exact=False).checks["unrolled_form"]
    assert result.passed and result.compared == 6 and result.unrolled == ("w",) and result.last_step_only
