"""Numbers that stop being finite real numbers, said in one line.

Every engine computes in float64 with NumPy's semantics (1/0 is inf and a
flag, never a ZeroDivisionError) inside ``Watch``: no RuntimeWarning is
printed, the flags that fire are kept, and the first value that is not a
finite real number stops the evaluation with a ``NumericFault`` naming the
node, the step and the cause:

    division by zero at yhat (x = 0)
    overflow at h, t = 3 (exp of 812.4)
    not a real number at z (negative base -0.5 to the fractional power 0.5)
    adjoint of w not finite (overflow in the backward pass)

The cause is the first flag NumPy raised since the engine moved to the node
(``Watch.at``), unless the engine knows better (the array engine inspects
the operation and its arguments: ``arrays.explain``).  A ZeroDivisionError,
OverflowError or math domain error that escapes from Python arithmetic
becomes the same line.
"""

import numpy as np

from ..errors import SympropError

FLAGS = {"divide by zero": "division by zero", "overflow": "overflow", "invalid value": "not a real number"}
PYTHON = {ZeroDivisionError: "division by zero", OverflowError: "overflow", ValueError: "not a real number"}


class NumericFault(SympropError):
    """A value that is not a finite real number: the model cannot be evaluated there."""

    def __init__(self, message: str, *, where: str | None = None):
        self.message = message  # without the place of the spec
        super().__init__(message, where=where)


def finite(v) -> bool:
    """A real number (or array of them) with no inf and no nan."""
    if not np.isrealobj(v):
        return False
    try:  # a Python int (a constant line) may be beyond float64
        return bool(np.all(np.isfinite(np.asarray(v, dtype=float))))
    except (TypeError, ValueError, OverflowError):
        return False


LARGEST = float(np.finfo(float).max)


def largest(errors) -> float:
    """The largest of a check's errors: a nan or an inf counts as the largest
    float64, so that the report stays finite (JSON has no inf) and fails."""
    with np.errstate(all="ignore"):
        worst = float(np.max(errors, initial=0.0))
    return worst if np.isfinite(worst) else LARGEST


def gap(a, b) -> float:
    """The largest |a − b|, entry by entry (see ``largest``)."""
    with np.errstate(all="ignore"):
        return largest(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))


def number(x) -> str:
    return f"{float(x):.6g}"


def place(key: str, t: int | None = None) -> str:
    """``z``; ``h, t = 3`` for the instance h[3] of a cell line."""
    if t is None:
        return key
    return f"{key.rsplit('[', 1)[0]}, t = {t}"


class Watch:
    """A context for numbers: float64 errors recorded, never printed, and
    faults raised as one line.  ``at`` says where the engine is."""

    def __init__(self, origin: str | None = None):
        self.origin = origin
        self.flags: list[str] = []
        self.where, self.t, self.backward = "", None, False
        self._state = np.errstate(over="call", divide="call", invalid="call", under="ignore", call=self._flag)

    def _flag(self, kind: str, _code: int) -> None:
        self.flags.append(kind)

    def __enter__(self) -> "Watch":
        self._state.__enter__()
        return self

    def __exit__(self, kind, error, tb) -> None:
        self._state.__exit__(kind, error, tb)
        cause = next((c for k, c in PYTHON.items() if isinstance(error, k)), None)
        if cause and (kind is not ValueError or "math domain" in str(error)):
            raise self.fault(cause) from None

    def at(self, key: str, t: int | None = None, backward: bool = False) -> None:
        """The engine now computes the node ``key`` (at step t), or its local derivatives."""
        self.where, self.t, self.backward = key, t, backward
        self.flags.clear()

    def cause(self) -> str:
        return FLAGS.get(self.flags[0], "not finite") if self.flags else "not finite"

    def fault(self, cause: str | None = None, detail: str = "") -> NumericFault:
        cause = cause or self.cause()
        if self.backward:
            message = f"{cause} in the backward pass at {place(self.where, self.t)}"
        else:
            message = f"{cause} at {place(self.where, self.t)}" + (f" ({detail})" if detail else "")
        return NumericFault(message, where=self.origin)

    def check(self, value, explain=None):
        """The value, if it is finite and real; else the fault, with the cause
        and detail ``explain()`` gives, or the flag's."""
        # Finite inputs give a value that is not finite only with a flag raised
        # (inf - inf is "invalid"), so a pass without flags costs no test.
        quiet = not self.flags and isinstance(value, np.ndarray | np.floating)
        if not quiet and not finite(value):
            raise self.fault(*(explain() if explain else ()))
        return value

    def check_adjoint(self, key: str, value):
        """∂L/∂key, if it is finite and real; else the fault."""
        if not finite(value):
            step = "" if self.t is None else f" at t = {self.t}"
            raise NumericFault(f"adjoint of {key} not finite ({self.cause()} in the backward pass{step})",
                               where=self.origin)
        return value
