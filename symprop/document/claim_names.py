"""A claim of ``[expected]`` named as mathematics, as every report of claims
names it: the teacher's appendix, ``symprop check`` and the answer key."""

from sympy import Symbol

from ..derive.backprop import AdjointSymbol
from ..model.kinds import ClaimKind
from ..model.spec import LOSS


def claim_symbol(kind: ClaimKind, name: str = "", step: int = 1):
    """L, a value h₃, ∂L/∂w, w⁽ᵏ⁾ after step k, and the loss after the last update L⁽ⁿ⁾."""
    if kind == ClaimKind.LOSS:
        return Symbol(LOSS, real=True)
    if kind == ClaimKind.FINAL:
        return Symbol(f"{LOSS}@{step}", real=True)
    if kind == ClaimKind.UPDATED:
        return Symbol(f"{name}@{step}", real=True)
    if kind in (ClaimKind.GRAD, ClaimKind.ADJOINT):
        return AdjointSymbol(name)
    return Symbol(name, real=True)  # value.NAME


def claim_step(claim, steps: int) -> int:
    """The training step a claim is about: its ``step.K.``, else the last for an
    updated parameter and the final loss, the first for the rest."""
    return claim.step or (steps if claim.kind in (ClaimKind.UPDATED, ClaimKind.FINAL) else 1)


def step_column(claims, steps: int) -> bool:
    """Whether a table of claims needs a Step column: several steps, and a claim about a later one."""
    return steps > 1 and any(c.step is not None or c.kind == ClaimKind.FINAL for c in claims)
