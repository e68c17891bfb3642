"""symprop: derive backpropagation symbolically and check every number.

    >>> import symprop
    >>> problem = symprop.load("derivations/udl_toy.toml")
    >>> problem.gradients()          # {param: closed-form sympy.Expr}
    >>> problem.solve()["loss"]      # the numbers, as `symprop solve --format json`
"""

from .api import Problem, from_dict, load, loads
from .errors import SympropError

__all__ = ["load", "loads", "from_dict", "Problem", "SympropError"]
__version__ = "0.1.0"
