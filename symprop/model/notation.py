"""A spec's ``[notation]``: how its worked solution writes what the source writes.

The source's letters, so a solution reads as if it belonged in the same book:
time as a subscript (hₜ) or a superscript (h⁽ᵗ⁾), T or τ for the last step,
∂L/∂x or ∇ₓL for a gradient, the learning rate's letter, how an updated weight
is written (w⁽¹⁾, w₁, w′), and a matrix's entries as typed (W₁₁) or lower case
(w₁₁).  Without the table every default is what symprop has always printed.
"""

import ast
from dataclasses import dataclass

from .parse import parse_syntax

# The choices of each key: the first is the default.
TIME = ("subscript", "superscript")
LAST_STEP = {"T": "T", "τ": "tau", "tau": "tau"}
GRADIENT = ("partial", "nabla")
UPDATED = ("superscript", "subscript", "prime")
ENTRIES = ("lowercase", "as_typed")
FACTORS = ("sorted", "as_written")
# The learning rate's letter: Unicode or spelled out, kept spelled out (a symbol's name).
LEARNING_RATE = {
    "η": "eta", "γ": "gamma", "α": "alpha", "ε": "epsilon", "λ": "lambda", "μ": "mu", "ρ": "rho",
    "eta": "eta", "gamma": "gamma", "alpha": "alpha", "epsilon": "epsilon", "lambda": "lambda",
    "mu": "mu", "rho": "rho",
}
KEYS = {"time", "last_step", "gradient", "learning_rate", "updated", "entries", "factors"}


@dataclass(frozen=True)
class Notation:
    """How names, steps, gradients and updates are written; the defaults are symprop's own.

    ``gradient`` None is symprop's own mix: ∂L/∂x for a value, ∇_W L for a
    parameter's gradient summed over the steps in the matrix form.  ``params``
    are the names whose ``w@k`` is the weight after k steps (``updated``); the
    reader sets them from ``[model] params``.
    """

    time: str = "subscript"
    last_step: str = "T"  # "T" or "tau"
    gradient: str | None = None  # None, "partial" or "nabla"
    learning_rate: str = "eta"
    updated: str = "superscript"
    entries: str = "lowercase"
    factors: str = "sorted"
    params: frozenset = frozenset()
    # factors = "as_written": (a, b) when the equations write a*b and never b*a
    written: frozenset = frozenset()

    @property
    def nabla(self) -> bool:
        return self.gradient == "nabla"

    @property
    def superscript(self) -> bool:
        return self.time == "superscript"


DEFAULT = Notation()


def _choice(table: dict, key: str, choices, error):
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        shown = ", ".join(f'"{c}"' for c in choices)
        raise error(f"notation.{key}", f"must be one of {shown}, got {value!r}")
    return choices[value] if isinstance(choices, dict) else value


def written_order(texts) -> frozenset:
    """The pairs (a, b) of names the texts multiply as a*b (w*h[t-1]: (w, h)) and never as b*a."""
    pairs = set()
    for text in texts:
        for node in ast.walk(parse_syntax(text)):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
                names = [n for n in map(_name, _factors(node)) if n]
                pairs |= {(a, b) for i, a in enumerate(names) for b in names[i + 1:] if a != b}
    return frozenset(p for p in pairs if (p[1], p[0]) not in pairs)


def _factors(node) -> list:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _name(node) -> str | None:
    """The name a factor is (h of h[t-1]), or None for anything else."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def read_notation(table: dict, error, params=(), names=frozenset(), texts=()) -> Notation:
    """The ``[notation]`` table, checked; ``error(key, message)`` makes the one-line
    error; ``names`` are the model's, which the learning rate's letter must not be."""
    for key in table:
        if key not in KEYS:
            raise error(f"notation.{key}", f"unknown key (expected one of: {', '.join(sorted(KEYS))})")
    given = {key: _choice(table, key, choices, error) for key, choices in [
        ("time", TIME), ("last_step", LAST_STEP), ("gradient", GRADIENT), ("learning_rate", LEARNING_RATE),
        ("updated", UPDATED), ("entries", ENTRIES), ("factors", FACTORS)]}
    lr = given["learning_rate"]
    if lr is not None and lr in names:
        raise error("notation.learning_rate", f"'{lr}' is already a name in the model: choose another letter")
    if given["last_step"] == "tau" and "tau" in names:
        raise error("notation.last_step", "'tau' is already a name in the model: write \"T\"")
    written = written_order(texts) if given["factors"] == "as_written" else frozenset()
    return Notation(params=frozenset(params), written=written, **{k: v for k, v in given.items() if v is not None})
