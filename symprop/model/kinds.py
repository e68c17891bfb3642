"""The kinds of things a problem names, each an enumeration: what a named
value is (``Role``) and what a claim of ``[expected]`` is about (``ClaimKind``).
They are ``StrEnum``s: a kind prints and serialises as its word ("param",
"grad"), so JSON and messages read as before."""

from enum import StrEnum


class Role(StrEnum):
    """What a named value of the graph or the program is."""

    PARAM = "param"  # a parameter: the gradients are of it
    INPUT = "input"  # a given input (or, in a cell, the previous step's state)
    SEQUENCE = "sequence"  # an input indexed by time
    INITIAL = "initial"  # the initial state h[0]
    NODE = "node"  # a value an equation computes
    LOSS = "loss"  # the loss, or a step's term of it


class ClaimKind(StrEnum):
    """What a claim in ``[expected]`` is about."""

    LOSS = "loss"
    VALUE = "value"
    ADJOINT = "adjoint"
    GRAD = "grad"
    UPDATED = "updated"  # a parameter after the update
    FINAL = "final"  # the loss after the last update
    THROUGH_TIME = "through_time"  # whether a gradient needs the sum back through time
