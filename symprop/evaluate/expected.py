"""The numbers a source claims in ``[expected]``, beside the computed ones.

A key names a number of one training step: ``step.K.`` (K from 1), without it
the first step (``updated.``: the last); ``final.loss`` is the loss after the
last update.  A claim is a number, a vector or a matrix, compared entry by
entry: within tol + rtol·|computed|, or, with ``digits``, as the source printed
it to that many decimals: rounded ("ok"), truncated ("truncated"), else "wrong".
A truncated number is no error of the source's arithmetic: it agrees.
"""

import re

import numpy as np

from ..errors import SympropError
from ..model.kinds import ClaimKind
from ..model.spec import LOSS, NumericClaim, Problem

_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_]*)((?:\[\d+\])*)\Z")


def lookup(problem: Problem, table: dict, name_and_index: str, what: str, key: str):
    """The number ``name_and_index`` names in ``table``: ``h[3]`` (a step),
    ``W[1][0]`` (an entry), ``W[1]`` (a row, 1-d); ``key`` is the claim's."""
    m = _KEY.match(name_and_index)
    name, indices = m.group(1), [int(i) for i in re.findall(r"\d+", m.group(2))]
    at = name
    if (name in problem.sequences or name == LOSS) and indices:
        at = f"{name}[{indices.pop(0)}]"
    if at not in table:
        raise SympropError(f"expected.{key}: no {what} named {at!r}", where=problem.origin)
    value = table[at]
    if not indices:
        return value
    if not isinstance(value, np.ndarray):
        raise SympropError(f"expected.{key}: {at} is a number, with no entries", where=problem.origin)
    try:
        if value.ndim > 2 and len(indices) <= value.ndim:  # an entry, or the array under the first indices
            entry = value[tuple(indices)]
            return float(entry) if np.ndim(entry) == 0 else entry
        if value.shape[1] == 1 and len(indices) == 1:
            return float(value[indices[0], 0])
        if len(indices) == 2:
            return float(value[indices[0], indices[1]])
        if len(indices) == 1:
            return value[indices[0]]
    except IndexError:
        pass
    raise SympropError(f"expected.{key}: index out of range for {at} ({'x'.join(map(str, value.shape))})",
                       where=problem.origin)


def _computed(problem: Problem, solution, key: str, claim: NumericClaim):
    if claim.kind == ClaimKind.FINAL:
        return solution.final_loss
    steps = solution.steps
    step = steps[claim.step - 1] if claim.step else steps[-1] if claim.kind == ClaimKind.UPDATED else steps[0]
    if claim.kind == ClaimKind.LOSS:
        return step.loss
    table = {"value": {**step.values, LOSS: step.loss}, "adjoint": step.adjoints, "grad": step.gradients,
             "updated": step.updated}[claim.kind]
    return lookup(problem, table, claim.name, claim.kind, key)


def _shape(a: np.ndarray) -> str:
    if a.ndim == 1:
        return f"a vector of {a.size}"
    return "a number" if a.size == 1 else "x".join(map(str, a.shape))


def _fit(problem: Problem, key: str, claimed: np.ndarray, computed) -> np.ndarray:
    """The computed number in the claim's shape: a flat list fits a vector, a
    column or a row; a list of lists a matrix of its shape."""
    got = np.asarray(computed, dtype=float)
    got = got.reshape(1, -1) if got.ndim == 1 else got  # W[1], a row
    if claimed.size == 1 and got.size == 1:
        return got.reshape(claimed.shape)
    if claimed.ndim == 1 and got.ndim == 2 and 1 in got.shape and got.size == claimed.size:
        return got.reshape(-1)
    if claimed.ndim >= 2 and got.shape == claimed.shape:
        return got
    what = key.split(".", 2)[2] if key.startswith("step.") else key
    raise SympropError(f"expected.{key}: claims {_shape(claimed)} but {what} is {_shape(got)}",
                       where=problem.origin)


def verdicts(claim: NumericClaim, claimed: np.ndarray, computed: np.ndarray) -> np.ndarray:
    """"ok", "truncated" or "wrong", entry by entry."""
    diff = np.abs(claimed - computed)
    if claim.digits is None:
        return np.where(diff <= claim.tol + claim.rtol * np.abs(computed), "ok", "wrong")
    unit = 10.0 ** -claim.digits
    slack = 1e-9 * unit + 4 * np.spacing(np.abs(computed))  # the decimal claim read into binary
    cut = np.abs(computed) - np.abs(claimed)  # what truncation dropped
    truncated = (claimed * computed >= 0) & (cut >= -slack) & (cut < unit - slack)
    return np.where(diff <= unit / 2 + slack, "ok", np.where(truncated, "truncated", "wrong"))


def _json(value: np.ndarray):
    return value.tolist() if value.ndim else float(value)


def _entry(index: tuple) -> str:
    return "".join(f"[{i}]" for i in index)


def compare_claims(problem: Problem, solution) -> list[dict]:
    """One row a claim: key, claimed and computed (a float, a flat list, or
    nested lists, as the claim is written), ok (not wrong), verdict, the rule
    (tol and rtol, or digits), and for a vector or a matrix the entries that
    are not ok ("disagree": ["[1][0]"])."""
    rows = []
    for key, claim in problem.expected.items():
        claimed = np.asarray(claim.value, dtype=float)
        computed = _fit(problem, key, claimed, _computed(problem, solution, key, claim))
        each = verdicts(claim, claimed, computed)
        verdict = "wrong" if "wrong" in each else "truncated" if "truncated" in each else "ok"
        row = {"key": key, "claimed": _json(claimed), "computed": _json(computed), "ok": verdict != "wrong",
               "verdict": verdict}
        row.update({"digits": claim.digits} if claim.digits is not None else {"tol": claim.tol, "rtol": claim.rtol})
        if claimed.size > 1 and verdict != "ok":
            row["disagree"] = [_entry(i) for i in np.ndindex(*each.shape) if each[i] != "ok"]
        rows.append(row)
    return rows
