"""A spec's ``[notation]``: how its worked solution writes what the source writes.

The source's letters, so a solution reads as if it belonged in the same book:
time as a subscript (hₜ) or a superscript (h⁽ᵗ⁾), T or τ for the last step,
∂L/∂x or ∇ₓL for a gradient, the learning rate's letter, how an updated weight
is written (w⁽¹⁾, w₁, w′), and a matrix's entries as typed (W₁₁) or lower case
(w₁₁).  Without the table every default is what symprop has always printed.
"""

from dataclasses import dataclass

# The choices of each key: the first is the default.
TIME = ("subscript", "superscript")
LAST_STEP = {"T": "T", "τ": "tau", "tau": "tau"}
GRADIENT = ("partial", "nabla")
UPDATED = ("superscript", "subscript", "prime")
ENTRIES = ("lowercase", "as_typed")
# The learning rate's letter: Unicode or spelled out, kept spelled out (a symbol's name).
LEARNING_RATE = {
    "η": "eta", "γ": "gamma", "α": "alpha", "ε": "epsilon", "λ": "lambda", "μ": "mu", "ρ": "rho",
    "eta": "eta", "gamma": "gamma", "alpha": "alpha", "epsilon": "epsilon", "lambda": "lambda",
    "mu": "mu", "rho": "rho",
}
KEYS = {"time", "last_step", "gradient", "learning_rate", "updated", "entries"}


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
    params: frozenset = frozenset()

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


def read_notation(table: dict, error, params=(), names=frozenset()) -> Notation:
    """The ``[notation]`` table, checked; ``error(key, message)`` makes the one-line
    error; ``names`` are the model's, which the learning rate's letter must not be."""
    for key in table:
        if key not in KEYS:
            raise error(f"notation.{key}", f"unknown key (expected one of: {', '.join(sorted(KEYS))})")
    given = {key: _choice(table, key, choices, error) for key, choices in [
        ("time", TIME), ("last_step", LAST_STEP), ("gradient", GRADIENT), ("learning_rate", LEARNING_RATE),
        ("updated", UPDATED), ("entries", ENTRIES)]}
    lr = given["learning_rate"]
    if lr is not None and lr in names:
        raise error("notation.learning_rate", f"'{lr}' is already a name in the model: choose another letter")
    if given["last_step"] == "tau" and "tau" in names:
        raise error("notation.last_step", "'tau' is already a name in the model: write \"T\"")
    return Notation(params=frozenset(params), **{k: v for k, v in given.items() if v is not None})
