"""The lesson of every BPTT chapter in numbers: how large ∂L/∂hₜ is at each step t.

For each recurrent state of the program (a cell value read at an earlier
step: h of an RNN or a GRU, h and c of an LSTM) the size of its total adjoint
∂L/∂hₜ (every path to the loss, the number the backward pass already
computed) at t = 1, …, T: |·| of a scalar state, the Euclidean norm of the
entries of a vector or matrix state.  Nothing is recomputed: the numbers are
read from a pass's adjoints (``numeric.Step`` or ``exact.ExactStep``).
"""

import math

import numpy as np

from ..derive.program import Program


def recurrent_states(program: Program) -> list[str]:
    """The states in the order the cell computes them (an LSTM's c, then h)."""
    return [line.key for line in program.cell if line.key in program.states]


def state_norms(program: Program, adjoints: dict) -> dict[str, list[float]]:
    """``{state: [‖∂L/∂s₁‖, …, ‖∂L/∂s_T‖]}`` from a pass's adjoints (floats;
    an exact pass's rationals converted); {} for a model with no state."""
    out = {}
    for name in recurrent_states(program):
        keys = [f"{name}[{t}]" for t in range(1, (program.steps or 0) + 1)]
        if keys and all(k in adjoints for k in keys):
            out[name] = [_size(adjoints[k]) for k in keys]
    return out


def _size(value) -> float:
    entries = np.asarray(value, dtype=object).ravel()
    return math.sqrt(math.fsum(float(x) ** 2 for x in entries)) if entries.size > 1 else abs(float(entries[0]))


def per_step(norms: list[float]) -> tuple[int, int, float] | None:
    """(a, b, r): the first and the last step t = a < b whose norm is not 0, and the
    factor r by which the norm changes, on average (geometric), a step back from b
    to a: ‖·‖ₐ = rᵇ⁻ᵃ ‖·‖_b.  None with fewer than two such steps."""
    nonzero = [t for t, n in enumerate(norms, start=1) if n > 0]
    if len(nonzero) < 2:
        return None
    a, b = nonzero[0], nonzero[-1]
    return a, b, math.exp((math.log(norms[a - 1]) - math.log(norms[b - 1])) / (b - a))
