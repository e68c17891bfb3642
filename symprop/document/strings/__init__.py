"""The prose of worked solutions, in every language symprop writes.

Renderers never write words: they take them from here, by key; each
language is one module of ``symprop/languages`` with the same keys.
``{name}`` marks a place for a formula or a number.  The words are the ones
the sources use (see the glossary in docs/).
"""

from ...languages import LANGUAGES, STRINGS  # noqa: F401  (live: a language registered later is in them)

AUDIENCES = ("teacher", "student")  # a student's document leaves out the teacher's appendix


def phrase(lang: str, key: str) -> str:
    return STRINGS[lang][key]
