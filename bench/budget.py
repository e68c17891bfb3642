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
