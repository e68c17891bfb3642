"""The report of ``symprop check`` as plain Unicode text, in the document's languages."""

import re
import unicodedata

from ...model.spec import LOSS
from ..blocks import Para, claim_rule, claim_rule_cell, claim_rule_key
from ..maths import Maths
from ..numbers import Number, claim_cells, disagreeing
from ..printing import TextPrinter, unicode_name
from ..strings import phrase
from .document import no_controls


def _name(problem, key: str) -> str:
    return unicode_name(key, problem.conventions.index_base, problem.sequences | {LOSS})


def _plain(item) -> str:
    """Words and mathematics as plain text: a Para, mathematics, a Number, a string."""
    if isinstance(item, Para):
        return "".join(_plain(part) for part in item.parts)
    if isinstance(item, Maths):
        return TextPrinter().doprint(item)
    return item.text() if isinstance(item, Number) else str(item)


def _shown(text: str) -> int:
    """Columns a text takes in a terminal: a Chinese character two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(_shown(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c + " " * (w - _shown(c)) for c, w in zip(r, widths)).rstrip() for r in rows]


def _per_param(problem, report: dict, say) -> list[str]:
    return ["    " + say("check_param", name=_name(problem, name), abs=f"{r['max_abs_error']:.1e}", rel=f"{r['max_rel_error']:.1e}")
            for name, r in report.get("params", {}).items()]


def _check_line(name: str, report: dict | None, details, say) -> list[str]:
    """One line for a check: skipped (and why), or its numbers and verdict."""
    if not report:
        return []
    if "skipped" in report:
        return ["  " + say("check_skipped", name=say(name), why=_reason(report["skipped"], say))]
    return ["  " + say("check_verdict", line=say(name) + details(report),
                       verdict=say("check_passed" if report["passed"] else "check_failed"))]


# The engines' words the report says in the document's language: (pattern, key, its places)
_REASONS = [
    (re.compile(r"(\d+) of (\d+) parameter entries"), "check_entries", ("k", "n")),
    (re.compile(r"one random direction of each of (.+)"), "check_directions", ("names",)),
    (re.compile(r"values of three axes or more .*"), "check_nd", ()),
    (re.compile(r"(\d+) scalar terms; .* of up to (\d+)"), "check_too_large", ("n", "most")),
    (re.compile(r"PyTorch is not installed .*"), "check_no_torch", ()),
]


def _reason(text: str, say) -> str:
    """An engine's words (a skip's reason, a sample) in the report's language;
    English, and words no phrase matches, as they are."""
    if say.lang == "en":
        return text
    for pattern, key, places in _REASONS:
        m = pattern.fullmatch(text)
        if m:
            return say(key, **dict(zip(places, m.groups())))
    return text


class _Say:
    """The report's phrases in one language."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **places) -> str:
        return phrase(self.lang, key).format(**places)


def check_text(problem, checks: dict, expected: list | None = None, lang: str = "en") -> str:
    """The checks: finite differences, sympy.diff, and the source's claims:
    ``expected`` holds the numeric rows (with "computed") and the rows of the
    claims about formulas and structure (with "reason"), in ``lang``."""
    say = _Say(lang)
    out = [say("check_title")] + _fd_lines(problem, checks, say)
    out += _check_line("check_torch", checks.get("torch"), lambda r: say(
        "check_torch_numbers", abs=f"{r['max_abs_error']:.2e}", rel=f"{r['max_rel_error']:.2e}"), say)
    if checks.get("torch") and "skipped" not in checks["torch"]:
        out += _per_param(problem, checks["torch"], say)
    compared = lambda key: lambda r: say(key, n=r["compared"], err=f"{r['max_abs_error']:.1e}")  # noqa: E731
    out += _check_line("check_scalar", checks.get("scalar_engine"), compared("check_compared"), say)
    out += _check_line("check_exact", checks.get("exact"), compared("check_compared_numbers"), say)
    out += _check_line("check_matrix", checks.get("matrix_form"), compared("check_compared"), say)
    out += _check_line("check_sympy", checks.get("sympy_diff"), lambda r: say(
        "check_points", n=r["points"], err=f"{r['max_rel_error']:.1e}"), say)
    if (checks.get("sympy_diff") or {}).get("sampled"):
        out.append("    " + say("check_sampled", what=_reason(checks["sympy_diff"]["sampled"], say)))
    numbers = [row for row in expected or [] if "computed" in row]
    formulas = [row for row in expected or [] if "computed" not in row]
    out += _number_claims(numbers, say, problem.computed) + _formula_claims(formulas, say)
    return no_controls("\n".join(out))  # a claimed formula's comment is the spec's text


def _fd_lines(problem, checks: dict, say) -> list[str]:
    fd = checks.get("finite_differences")
    if not fd:
        return [] if "torch" in checks else ["  " + say("check_fd_none")]
    out = ["  " + say("check_verdict", line=say("check_fd", abs=f"{fd['max_abs_error']:.2e}",
                                                  rel=f"{fd['max_rel_error']:.2e}"),
                      verdict=say("check_passed" if fd["passed"] else "check_failed"))]
    if fd.get("disagree"):
        note = say("check_at_kink") if fd.get("kinks") else ""
        out.append("    " + say("check_disagree", names=", ".join(_name(problem, k) for k in fd["disagree"])) + note)
    for key, why in fd.get("not_finite", {}).items():
        out.append("    " + say("check_not_finite", name=_name(problem, key), why=why))
    if fd.get("directions"):
        out.append("    " + say("check_along", what=_reason(fd["directions"], say)))
    if fd.get("sampled"):
        out.append("    " + say("check_sampled", what=_reason(fd["sampled"], say)))
    return out + _per_param(problem, fd, say)


def _number_claims(numbers: list[dict], say, computed: bool = False) -> list[str]:
    """The source's numbers beside the computed ones, a row a claim."""
    if not numbers:
        return []
    mixed = len({claim_rule_key(r) for r in numbers}) > 1
    title = say("check_claims_computed" if computed else "check_claims")
    out = ["", title if mixed else say("check_with_rule", title=title, rule=_plain(claim_rule(say.lang, numbers[0])))]
    rows = [[say("check_claim"), say("check_claimed"), say("check_computed")]
            + ([say("check_tolerance")] if mixed else []) + [""]]
    for row in numbers:
        verdict = say({"ok": "check_ok", "wrong": "check_wrong", "truncated": "check_truncated"}[row["verdict"]])
        verdict = say("check_at", verdict=verdict, entries=disagreeing(row)) if disagreeing(row) else verdict
        rule = [_plain(claim_rule_cell(say.lang, row))] if mixed else []
        rows.append([row["key"], *(_plain(c) for c in claim_cells(row)), *rule, verdict])
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
