"""The languages symprop writes, one module each: its prose (``STRINGS``, the
same keys in every language) and how it is set (``LANGUAGE``: its script, its
babel name, its quotation marks, its rule at a broken line).  The registry
holds every module of this package; ``register`` adds one more (a test does
so with a language that has only its strings).  This is the lowest layer:
the spec's reader takes its list of languages from here."""

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # the spec's lang = "…"
    strings: dict[str, str]
    script: str = "latin"  # latin, cyrillic or han: how LaTeX sets words of the other scripts
    babel: str = "english"  # babel's name for pdflatex (a han document is set by ctex with xelatex)
    quotes: tuple[str, str] = ("``", "''")  # "…" of the spec's words, as the language writes them
    repeat_operator: bool = False  # at a broken line, the operator ends the line and starts the next


LANGUAGES: dict[str, Language] = {}  # by code, English first
STRINGS: dict[str, dict[str, str]] = {}  # each language's prose, by code


def register(language: Language) -> None:
    LANGUAGES[language.code] = language
    STRINGS[language.code] = language.strings


def _load() -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: (m.name != "en", m.name)):  # English first
        register(importlib.import_module(f"{__name__}.{module.name}").LANGUAGE)


_load()
