"""Seed 000: BPTT through a ReLU cell.  The seed's forward table does not
follow its own recurrence (h_3 = relu(0.5*0.5 + 0.5*(-1)) = 0, not 0.375), so
its loss, dL/du and the step on u are wrong too; and it says the input weight
v needs no backpropagation through time, which is false."""

import json
import re

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.derive.bptt import bptt

Y = [0, 1, -1, 2]


def by_hand(u=0.5, v=0.5, w=0.5, relu0=0.0):
    """Forward and BPTT written out for this cell, relu'(0) = relu0."""
    relu = lambda z: max(z, 0.0)  # noqa: E731
    drelu = lambda z: 1.0 if z > 0 else (0.0 if z < 0 else relu0)  # noqa: E731
    h, yhat, pre_h, pre_y = [0.0], [None], [None], [None]
    for t in range(1, 4):
        pre_h.append(w * h[t - 1] + v * Y[t - 1])
        h.append(relu(pre_h[t]))
        pre_y.append(u * h[t])
        yhat.append(relu(pre_y[t]))
    loss = sum((Y[t] - yhat[t]) ** 2 for t in range(1, 4))
    gu = gv = gw = 0.0
    dh_next = 0.0
    for t in range(3, 0, -1):
        dyhat = 2 * (yhat[t] - Y[t])
        gu += dyhat * drelu(pre_y[t]) * h[t]
        dh = dyhat * drelu(pre_y[t]) * u + dh_next
        da = dh * drelu(pre_h[t])
        gv += da * Y[t - 1]
        gw += da * h[t - 1]
        dh_next = da * w
    return h, yhat, loss, {"u": gu, "v": gv, "w": gw}


@pytest.fixture(scope="module")
def solved():
    return symprop.load("masha_rnn").solve()


def test_the_numbers_the_issue_states(solved):
    assert solved["loss"] == 6.5625
    assert [solved["values"][f"h[{t}]"] for t in range(4)] == [0, 0, 0.5, 0]
    assert [solved["values"][f"yhat[{t}]"] for t in range(1, 4)] == [0, 0.25, 0]
    assert solved["gradients"] == {"u": 1.25, "v": 1.25, "w": 0.0}
    assert solved["updated"]["u"] == pytest.approx(0.375, abs=1e-15)


def test_matches_a_hand_written_bptt(solved):
    h, yhat, loss, grads = by_hand()
    assert solved["loss"] == pytest.approx(loss)
    for name, g in grads.items():
        assert solved["gradients"][name] == pytest.approx(g)


def test_per_step_losses_form_the_table(solved):
    assert [solved["values"][f"L[{t}]"] for t in range(1, 4)] == [1, 1.5625, 4]


def test_check_shows_each_wrong_claim_and_exits_1():
    result = CliRunner().invoke(main, ["check", "masha_rnn"])
    assert result.exit_code == 1
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()
            if line.strip().split(" ")[0] in {"h₃", "L", "∂L/∂u", "u₁"}}  # value.h[3], loss, grad.u, updated.u
    assert rows["h₃"] == ["0.375", "0", "WRONG"]
    assert rows["L"] == ["5.8475", "6.5625", "WRONG"]
    assert rows["∂L/∂u"] == ["-0.11", "1.25", "WRONG"]
    assert rows["u₁"] == ["0.511", "0.375", "WRONG"]


def test_the_input_weight_needs_bptt_and_the_output_weight_does_not():
    """Seed 000 claims v needs no backpropagation through time; h_{t-1} depends on v."""
    b = bptt(symprop.load("masha_rnn").derivation())
    through = {p.name: p.through_time for p in b.params}
    assert through == {"u": False, "v": True, "w": True}
    text = CliRunner().invoke(main, ["derive", "masha_rnn", "--lang", "en"]).stdout
    assert "v, w enter hₜ, and hₜ₋₁ depends on them too: their gradients need the sum back through time" in text
    assert "u enters no hidden state: its gradient needs no sum back through time" in text
    russian = CliRunner().invoke(main, ["derive", "masha_rnn"]).stdout
    assert "v, w входят в hₜ, а hₜ₋₁ тоже зависит от них: придётся брать производную назад во времени" in russian


def test_recursion_is_the_textbook_one():
    text = re.sub(" +", " ", CliRunner().invoke(main, ["derive", "masha_rnn"]).stdout)
    # u·hₜ and w·hₜ as the cell writes them ([notation] factors = "as_written"); each term in the
    # chain's order, as seed 000 writes ∂Lₜ/∂ŷₜ · f′(…) · u
    assert "∂L/∂hₜ = ∂L/∂ŷₜ·[u·hₜ > 0]·u + ∂L/∂hₜ₊₁·[w·hₜ + v·yₜ > 0]·w" in text
    assert "Σ_(k=1..t) ∂Lₜ/∂hₜ · (Π_(i=k+1..t) ∂hᵢ/∂hᵢ₋₁) · ∂⁺hₖ/∂p" in text


def test_kinks_are_named_with_the_convention(solved):
    assert set(solved["kinks"]["nodes"]) == {"h[1]", "yhat[1]", "yhat[3]"}
    assert solved["kinks"]["relu_grad_at_zero"] == 0.0
    text = CliRunner().invoke(main, ["solve", "masha_rnn", "--lang", "en"]).stdout
    assert "we use relu′(0) = 0, as PyTorch and JAX do" in " ".join(text.split())


@pytest.mark.parametrize("relu0", [0.5, 1.0])
def test_other_relu_conventions(relu0, spec_file):
    from tests.conftest import DERIVATIONS

    text = (DERIVATIONS / "masha_rnn.toml").read_text()
    text = text.replace("[training]", f"[conventions]\nrelu_grad_at_zero = {relu0}\n[training]")
    s = json.loads(CliRunner().invoke(main, ["solve", str(spec_file(text)), "--format", "json"]).stdout)
    _, _, _, grads = by_hand(relu0=relu0)
    for name, g in grads.items():
        assert s["gradients"][name] == pytest.approx(g)
