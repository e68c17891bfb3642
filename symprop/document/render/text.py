"""The report of ``symprop check`` as plain Unicode text, in the document's languages: each
check in its own words (``evaluate.checks``), then the source's claims."""


from ...evaluate.checks import Names, Said, strings_of
from ...model.spec import LOSS
from ..blocks import Para, claim_rule, claim_rule_cell, claim_rule_key
from ..claim_names import claim_step, claim_symbol, step_column
from ..maths import Maths
from ..numbers import Number, claim_cells, disagreeing
from ..printing import TextPrinter, unicode_name
from ..strings import phrase
from .document import no_controls, pad, shown


def _name(problem, key: str) -> str:
    return unicode_name(key, problem.conventions.index_base, problem.sequences | {LOSS}, problem.notation)


def _plain(item) -> str:
    """Words and mathematics as plain text: a Para, mathematics, a Number, a string."""
    if isinstance(item, Para):
        return "".join(_plain(part) for part in item.parts)
    if isinstance(item, Maths):
        return TextPrinter().doprint(item)
    return item.text() if isinstance(item, Number) else str(item)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(shown(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(pad(c, w) for c, w in zip(r, widths)).rstrip() for r in rows]


class _Say:
    """The report's phrases in one language."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **places) -> str:
        return phrase(self.lang, key).format(**places)


def _words(problem, said: Said, strings: dict, lang: str) -> str:
    """A check's sentence in ``lang``: names as the document prints them, errors in their format."""

    def place(value) -> str:
        if isinstance(value, Names):
            return ", ".join(_name(problem, key) for key in value.keys)
        return str(value)

    return said.text(lang, strings, place)


def check_text(problem, checks: dict, expected: list | None = None, lang: str = "en") -> str:
    """The checks (``checks``: each check's result by name, in the registry's
    order), each in its own words, and the source's claims: ``expected`` holds
    the numeric rows (with "computed") and the rows of the claims about
    formulas and structure (with "reason"), in ``lang``."""
    say = _Say(lang)
    out = [say("check_title")]
    for name, result in checks.items():
        strings = strings_of(name)
        lines = [_words(problem, said, strings, lang) for said in result.report()]
        out += ["  " + line for line in lines[:1]] + ["    " + line for line in lines[1:]]
    numbers = [row for row in expected or [] if "computed" in row]
    formulas = [row for row in expected or [] if "computed" not in row]
    out += _number_claims(problem, numbers, say) + _formula_claims(formulas, say)
    return no_controls("\n".join(out))  # a claimed formula's comment is the spec's text


def _number_claims(problem, numbers: list[dict], say) -> list[str]:
    """The source's numbers beside the computed ones, a row a claim, each named
    as the documents name it (∂L/∂w₅, w₅⁽¹⁾), with its step when there are several."""
    if not numbers:
        return []
    mixed = len({claim_rule_key(r) for r in numbers}) > 1
    title = say("check_claims_computed" if problem.computed else "check_claims")
    out = ["", title if mixed else say("check_with_rule", title=title, rule=_plain(claim_rule(say.lang, numbers[0])))]
    n = len(problem.training.batches) or 1
    steps = step_column(problem.expected.values(), n)
    rows = [[say("check_claim")] + ([say("check_step")] if steps else []) + [say("check_claimed"), say("check_computed")]
            + ([say("check_tolerance")] if mixed else []) + [""]]
    printer = TextPrinter(problem.conventions.index_base, problem.sequences, problem.notation)
    for row in numbers:
        claim = problem.expected[row["key"]]
        step = claim_step(claim, n)
        name = [printer.doprint(claim_symbol(claim.kind, claim.name, step))] + ([str(step)] if steps else [])
        verdict = say({"ok": "check_ok", "wrong": "check_wrong", "truncated": "check_truncated"}[row["verdict"]])
        verdict = say("check_at", verdict=verdict, entries=disagreeing(row)) if disagreeing(row) else verdict
        rule = [_plain(claim_rule_cell(say.lang, row))] if mixed else []
        rows.append([*name, *(_plain(c) for c in claim_cells(row)), *rule, verdict])
    out += _table(rows)
    wrong = sum(not r["ok"] for r in numbers)
    truncated = sum(r["verdict"] == "truncated" for r in numbers)
    out.append("  " + say("check_agree", k=len(numbers) - wrong, n=len(numbers))
               + (say("check_truncated_count", t=truncated) if truncated else ""))
    return out


def _formula_claims(formulas: list[dict], say) -> list[str]:
    """The source's claims about formulas and structure, with the reason of each verdict."""
    if not formulas:
        return []
    out = ["", say("check_claims_formulas")]
    for row in formulas:
        claimed = row["claimed"]
        claimed = say("check_true" if claimed else "check_false") if isinstance(claimed, bool) else claimed
        out.append(f"  {row['key']} = {claimed}")
        out.append(f"    {say('check_ok' if row['ok'] else 'check_wrong')}: {row['reason']}")
    wrong = sum(not r["ok"] for r in formulas)
    out.append("  " + say("check_agree", k=len(formulas) - wrong, n=len(formulas)))
    return out
