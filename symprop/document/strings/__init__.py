"""The prose of worked solutions, in every language symprop writes.

Renderers never write words: they take them from here, by key, one module a
language with the same keys.  ``{name}`` marks a place for a formula or a
number.  The words are the ones the sources use (see the glossary in docs/).
"""

from . import en, ru, zh

STRINGS: dict[str, dict[str, str]] = {"en": en.STRINGS, "ru": ru.STRINGS, "zh": zh.STRINGS}
LANGUAGES = tuple(STRINGS)
AUDIENCES = ("teacher", "student")  # a student's document leaves out the teacher's appendix


def phrase(lang: str, key: str) -> str:
    return STRINGS[lang][key]
