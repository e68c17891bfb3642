"""Run a function in a child process with a time budget (plain sympy.diff of
an expanded loss can take minutes, or blow Python's recursion limit)."""

import multiprocessing as mp


def _child(function, argument, queue) -> None:
    try:
        queue.put(function(argument))
    except RecursionError:
        queue.put("recursion")


def within(function, argument, budget: float) -> float | str:
    """function(argument) (a number of seconds), or why there is none."""
    queue = mp.Queue()
    proc = mp.Process(target=_child, args=(function, argument, queue))
    proc.start()
    proc.join(budget)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return f"> {budget:g}"
    return queue.get(timeout=5) if not queue.empty() else "crashed"


class NaiveColumn:
    """The sympy.diff column of a table: once one size is over the budget
    (or crashes), the larger ones are not tried."""

    def __init__(self, function, budget: float):
        self.function = function
        self.budget = budget
        self.alive = True

    def cell(self, size) -> str:
        if not self.alive:
            return f"{'(gave up)':>12}"
        result = within(self.function, size, self.budget)
        self.alive = isinstance(result, float)
        return f"{result:12.3f}" if self.alive else f"{result:>12}"
