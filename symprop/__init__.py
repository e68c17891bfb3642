"""symprop: derive backpropagation symbolically and check every number.

    >>> import symprop
    >>> problem = symprop.load("derivations/udl_toy.toml")
    >>> problem.gradients()          # {param: closed-form sympy.Expr}
    >>> problem.solve()["loss"]      # the numbers, as `symprop solve --format json`
"""

from .errors import SympropError
from .shipped import resolve
from .spec import Problem
from .spec import load as _load_file

__all__ = ["load", "Problem", "SympropError"]
__version__ = "0.1.0"


def load(spec) -> Problem:
    """Load a problem from a path or a shipped name (``"udl_toy"``)."""
    return _load_file(resolve(spec))
