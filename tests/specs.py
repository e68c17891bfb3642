"""A spec's text from equations, a loss and NumPy values, and its checked
solution: the helpers of the tests of the courses' operations."""

import numpy as np

import symprop


def spec_text(equations: str, loss: str, values: dict, params, title: str = "test") -> str:
    """A spec whose [values] are NumPy's (a 1-d array as a list, a 2-d one as a list of lists)."""
    lines = [f"{k} = {np.asarray(v).tolist()}" for k, v in values.items()]
    return (f'title = "{title}"\n[model]\n'
            f'params = {list(params)!r}\nequations = """\n{equations}\n"""\nloss = "{loss}"\n'
            "[values]\n" + "\n".join(lines) + "\n").replace("'", '"')


def solved(text: str) -> dict:
    """The solution's JSON, after `symprop check` has passed on the spec."""
    problem = symprop.loads(text)
    report, ok = problem.check()
    assert ok, report
    return problem.solve()
