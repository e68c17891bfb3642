"""The checks of a solution, one module each, and their registry.

A check module holds a ``Check``: its name (its key in the JSON and the
report), how to run it, its place in the order, whether it runs with every
solution or only in ``symprop check``, the ``--against`` choice that selects
it, and its phrases in each language.  Its result is a typed value (a
``Result``) that gives today's JSON (``to_json``) and says itself, as
``Said`` sentences the document layer phrases in a language: a line of the
check report (``report``) and the teacher's appendix (``appendix``).

Every module of this package registers itself when it is loaded (as the
languages do); ``register`` adds one more, from a test say.  Nothing here
imports NumPy or SymPy: a check's ``run`` imports its engine when it runs, so
that the command line knows the ``--against`` choices without them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...languages import STRINGS


class Said:
    """A sentence a check says: a key of its phrases (the check's own, else the
    language's) and the values of its places (numbers, ``Names``, ``Error``,
    words, or other ``Said``)."""

    def __init__(self, key: str, **places):
        self.key = key
        self.places = places

    def __eq__(self, other) -> bool:
        return isinstance(other, Said) and (self.key, self.places) == (other.key, other.places)

    def __repr__(self) -> str:
        return f"Said({self.key!r}, {self.places!r})"

    def text(self, lang: str, strings: dict, place: Callable[[Any], str] = str) -> str:
        """The sentence in ``lang``: a number as the phrase formats it ("{n:,}"),
        any other place not a ``Said`` through ``place``."""

        def value(v):
            if isinstance(v, Said):
                return v.text(lang, strings, place)
            return v if isinstance(v, int | float) else place(v)

        return template(lang, strings, self.key).format(**{k: value(v) for k, v in self.places.items()})


def template(lang: str, strings: dict, key: str) -> str:
    """A phrase: the check's own in ``lang``, the language's, or the check's English."""
    for table in (strings.get(lang, {}), STRINGS.get(lang, {}), strings.get("en", {})):
        if key in table:
            return table[key]
    return STRINGS["en"][key]


@dataclass(frozen=True)
class Names:
    """Parameter or node names by key ("W1", "h[2]"), printed as the document prints them."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class Error:
    """A difference: in the report with the format ``form`` (".2e"); in the
    appendix as the power of ten above it (``form`` "bound") or rounded to two
    decimals ("rounded")."""

    value: float
    form: str

    def __str__(self) -> str:
        return format(self.value, self.form)


class Result:
    """What a check found.  A subclass is a dataclass with ``passed`` and, when
    the check did not run, ``skipped``: why (a ``Said`` or English words)."""

    passed: bool
    skipped: Said | str | None  # a subclass without the field is never skipped

    def to_json(self) -> dict:
        raise NotImplementedError

    def lines(self) -> list[Said]:
        """The report's lines when the check ran: its verdict, then details."""
        return []

    def report(self) -> list[Said]:
        """The check report's lines: the first the check's, the rest details under it."""
        if getattr(self, "skipped", None) is not None:
            return [Said("check_skipped", name=Said("name"), why=self.skipped)]
        return self.lines()

    def appendix(self, exact: bool, shown: frozenset = frozenset()) -> list[Said]:
        """The sentences of the teacher's appendix (``exact``: the document shows exact numbers;
        ``shown``: the pieces the document prints, so a check speaks only of formulas it printed)."""
        return []

    def verdict(self, line: Said) -> Said:
        return Said("check_verdict", line=line, verdict=Said("check_passed" if self.passed else "check_failed"))

    def skip_json(self, strings: dict) -> dict:
        why = self.skipped
        return {"skipped": why.text("en", strings) if isinstance(why, Said) else why, "passed": True}


@dataclass
class Compared(Result):
    """How many numbers two computations gave alike and their largest
    difference (``at``: where, when not at the problem's values); where one
    met a number that is not finite, its words."""

    compared: int = 0
    max_abs_error: float = 0.0
    passed: bool = True
    not_finite: str | None = None
    at: str | None = None
    skipped: Said | None = None

    def json(self, strings: dict) -> dict:
        """The JSON, a skip's reason phrased in English from ``strings`` (the check's)."""
        if self.skipped is not None:
            return self.skip_json(strings)
        out = {"compared": self.compared, "max_abs_error": self.max_abs_error, "passed": self.passed}
        return out | {k: getattr(self, k) for k in ("not_finite", "at") if getattr(self, k) is not None}

    def to_json(self) -> dict:
        return self.json({})

    def lines(self) -> list[Said]:
        return [self.verdict(Said("line", name=Said("name"), n=self.compared, err=Error(self.max_abs_error, ".1e")))]


def per_param(params: dict) -> list[Said]:
    """A line a parameter: its largest absolute and relative error (finite differences, PyTorch)."""
    return [Said("check_param", name=Names((name,)), abs=Error(r["max_abs_error"], ".1e"),
                 rel=Error(r["max_rel_error"], ".1e")) for name, r in params.items()]


@dataclass
class Context:
    """What a check runs on.  ``solution`` is None when the problem has no
    numbers; while a solution is made, ``machine`` and ``run`` are its
    program ready for numbers and its first pass."""

    problem: Any
    against: str = "all"
    solution: Any = None
    machine: Any = None
    run: Any = None


@dataclass(frozen=True)
class Check:
    """A check: its name (its key in the JSON and the report), how it runs
    (None when it has nothing to say of the problem), its phrases by
    language (English at least), its place in the order, whether it runs with
    every solution (its result is in the solution's JSON and appendix) or only
    in ``symprop check``, and the ``--against`` choice that selects it (None:
    it runs whatever is chosen)."""

    name: str
    run: Callable[[Context], Result | None]
    strings: dict[str, dict[str, str]]
    rank: int
    solving: bool = False
    against: str | None = None


CHECKS: dict[str, Check] = {}


def register(check: Check) -> Check:
    CHECKS[check.name] = check
    return check


def unregister(name: str) -> None:
    del CHECKS[name]


def ordered() -> list[Check]:
    """Every check, in the fixed order of the report, the JSON and the appendix."""
    return sorted(CHECKS.values(), key=lambda c: c.rank)


def chosen(against: str) -> list[Check]:
    """The checks ``--against`` runs: all of them with "all", else the ones it names and the ones nothing selects."""
    return [c for c in ordered() if c.against is None or against in ("all", c.against)]


def against_choices() -> tuple[str, ...]:
    """The ``--against`` choices: each check's that has one, then "all"."""
    return (*dict.fromkeys(c.against for c in ordered() if c.against), "all")


def strings_of(name: str) -> dict:
    """A check's phrases (none for a name no check has)."""
    check = CHECKS.get(name)
    return check.strings if check is not None else {}


def _load() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_load()
