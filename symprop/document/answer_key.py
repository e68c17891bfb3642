"""Variants of a problem as specs and as one answer key.

A variant's spec is the source's TOML with the new values, its title marked
with the variant's number, and ``[expected]`` holding every answer (the
source's own claims are about its own numbers, so they are left out); the
answer key lists, variant by variant, the given numbers and the answers.
Exact answers print as books print them: 0.375, or 3/8 with ``fractions``;
1/3 always as a fraction.
"""

import copy

import numpy as np
import sympy
from sympy import Symbol

from ..evaluate.numeric import to_json
from ..evaluate.variants import Variant
from ..model.kinds import ClaimKind
from ..model.spec import Problem
from .blocks import Document, Para, Section, Table, UserText, para
from .claim_names import claim_symbol
from .numbers import Number
from .strings import phrase

DIGITS = 6  # decimals of an answer that is not exact


def variant_spec(problem: Problem, variant: Variant, number: int) -> dict:
    """The TOML table of one variant."""
    data = copy.deepcopy(problem.data)
    title = data.get("title")
    if isinstance(title, dict):
        data["title"] = {lang: phrase(lang, "variant_title").format(title=t, k=number) for lang, t in title.items()}
    else:
        data["title"] = phrase(problem.lang, "variant_title").format(title=title, k=number)
    data["values"] = {name: to_json(v) for name, v in variant.values.items()}
    expected = {k: float(e) for key, value in variant.answers.items() for k, e in _by_entry(key, value).items()}
    expected["tolerance"] = 1e-9 if variant.exact is not None else 1e-6
    expected["computed"] = True  # the key's answers: no source printed them
    data["expected"] = expected
    return data


def _by_entry(key: str, value) -> dict:
    """``key`` for a number, one key an entry for an array: ``grad.W[0][1]``,
    a column's entries ``[i]``."""
    if not isinstance(value, sympy.MatrixBase | np.ndarray) or np.shape(value) == (1, 1):
        return {key: value}
    if np.ndim(value) > 2:  # grad.K[0][1][2][0]
        return {key + "".join(f"[{i}]" for i in index): value[index] for index in np.ndindex(*np.shape(value))}
    rows = np.array(value, dtype=object).tolist()
    if len(rows[0]) == 1:
        return {f"{key}[{i}]": row[0] for i, row in enumerate(rows)}
    return {f"{key}[{i}][{j}]": e for i, row in enumerate(rows) for j, e in enumerate(row)}


def answer_key(problem: Problem, variants: list[Variant], lang: str | None = None,
               fractions: bool = False) -> Document:
    """One document: for each variant, the given numbers and the answers."""
    lang = lang or problem.lang
    title = phrase(lang, "key_title").format(title=problem.title_in(lang))
    intro = [Para([phrase(lang, "key_intro")])]
    if variants and all(v.exact is not None for v in variants):
        intro.append(Para([phrase(lang, "key_exact")]))
    updated = [key.partition(".")[2] for key in (variants[0].answers if variants else {}) if key.startswith("updated.")]
    if updated:
        intro.append(para(lang, "key_updated", updated=_quantity(f"updated.{updated[0]}"), p=_name(updated[0])))
    sections = []
    for k, v in enumerate(variants, start=1):
        given = [Para([phrase(lang, "key_given")]),
                 Table([phrase(lang, "key_quantity"), phrase(lang, "key_value")],
                       [[_name(name), _number(value, fractions)] for name, value in _given(v.values).items()])]
        answers = Table([phrase(lang, "key_quantity"), phrase(lang, "key_answer")],
                        [[_quantity(key), _number(value, fractions)]
                         for entry in v.answers.items() for key, value in _by_entry(*entry).items()])
        sections.append(Section(phrase(lang, "variant").format(k=k), [*given, answers]))
    return Document(title=UserText(title), lang=lang, source=problem.source_in(lang), statement=intro,
                    parts=[], appendix=sections)


def _given(values: dict) -> dict:
    """The given numbers by entry: ``W[0][1]``, a sequence's ``y[2]``."""
    out = {}
    for name, value in values.items():
        items = {f"{name}[{t}]": v for t, v in enumerate(value)} if isinstance(value, list) else {name: value}
        for key, item in items.items():
            out.update(_by_entry(key, item))
    return out


def _name(key: str) -> Symbol:
    """A given number's name as the documents print it: W₀₁, y₂."""
    return Symbol(key, real=True)


def _quantity(key: str):
    """An answer's quantity as mathematics, from its claim key: L, h₁, ∂L/∂W₀₁,
    and u⁽¹⁾, the parameter after the step (the notation's way to write it)."""
    kind, _, name = key.partition(".")
    return claim_symbol(ClaimKind(kind), name)


def _number(value, fractions: bool) -> Number:
    """An exact rational as a decimal when one prints it (0.375), else p/q;
    with ``fractions`` always p/q; a float with DIGITS decimals."""
    return Number(value, DIGITS, fractions=fractions)


def key_json(variants: list[Variant]) -> list[dict]:
    """The answer key as data: values as floats, an exact answer as its
    fraction "p/q" (a whole number "3"), other answers as floats."""

    def plain(value):
        return str(value) if isinstance(value, sympy.Rational) else float(value)

    return [{"values": {k: to_json(v) for k, v in variant.values.items()},
             "answers": {k: to_json(v, number=plain) for k, v in variant.answers.items()},
             "exact": variant.exact is not None} for variant in variants]
