"""The report of ``symprop check`` as plain Unicode text."""

from ...model.spec import LOSS
from ..blocks import Para, claim_rule, claim_rule_cell, claim_rule_key
from ..numbers import Number, Pre, claim_cells, disagreeing
from ..printing import unicode_name
from .document import no_controls


def _name(problem, key: str) -> str:
    return unicode_name(key, problem.conventions.index_base, problem.sequences | {LOSS})


def _plain(item) -> str:
    """Words and mathematics as plain text: a Para, a Pre, a Number, a string."""
    if isinstance(item, Para):
        return "".join(_plain(part) for part in item.parts)
    if isinstance(item, Pre):
        return item.text
    return item.text() if isinstance(item, Number) else str(item)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def _per_param(report: dict) -> list[str]:
    return [
        f"    {name}: max abs {r['max_abs_error']:.1e}, max rel {r['max_rel_error']:.1e}"
        for name, r in report.get("params", {}).items()
    ]


def _check_line(name: str, report: dict | None, details) -> list[str]:
    """One line for a check: skipped (and why), or its numbers and verdict."""
    if not report:
        return []
    if "skipped" in report:
        return [f"  {name}: skipped ({report['skipped']})"]
    return [f"  {name}{details(report)}: {'passed' if report['passed'] else 'FAILED'}"]


def check_text(problem, checks: dict, expected: list | None = None) -> str:
    """The checks: finite differences, sympy.diff, and the source's claims:
    ``expected`` holds the numeric rows (with "computed") and the rows of the
    claims about formulas and structure (with "reason")."""
    out = ["Checks"]
    fd = checks.get("finite_differences")
    if fd:
        verdict = "passed" if fd["passed"] else "FAILED"
        out.append(f"  finite differences: max abs error {fd['max_abs_error']:.2e}, "
                   f"max rel error {fd['max_rel_error']:.2e}: {verdict}")
        if fd.get("disagree"):
            note = " (at a kink, where finite differences average the two sides)" if fd.get("kinks") else ""
            out.append(f"    disagree: {', '.join(_name(problem, k) for k in fd['disagree'])}{note}")
        for key, why in fd.get("not_finite", {}).items():
            out.append(f"    not finite at {_name(problem, key)}: {why}")
        if fd.get("directions"):
            out.append(f"    along {fd['directions']}")
        if fd.get("sampled"):
            out.append(f"    sampled: {fd['sampled']}")
        out += _per_param(fd)
    elif "torch" not in checks:
        out.append("  finite differences: no [values], so no numbers to check")
    out += _check_line("PyTorch autograd", checks.get("torch"), lambda r: (
        f" (float64): max abs error {r['max_abs_error']:.2e}, max rel error {r['max_rel_error']:.2e}"))
    if checks.get("torch") and "skipped" not in checks["torch"]:
        out += _per_param(checks["torch"])
    out += _check_line("entry-by-entry scalar engine", checks.get("scalar_engine"), lambda r: (
        f": {r['compared']} adjoints and gradients, max abs error {r['max_abs_error']:.1e}"))
    out += _check_line("exact arithmetic (rationals)", checks.get("exact"), lambda r: (
        f": {r['compared']} numbers, max abs error {r['max_abs_error']:.1e}"))
    out += _check_line("matrix-form formulas, evaluated", checks.get("matrix_form"), lambda r: (
        f": {r['compared']} adjoints and gradients, max abs error {r['max_abs_error']:.1e}"))
    out += _check_line("sympy.diff of the expanded loss", checks.get("sympy_diff"), lambda r: (
        f", at {r['points']} random points: max rel error {r['max_rel_error']:.1e}"))
    if (checks.get("sympy_diff") or {}).get("sampled"):
        out.append(f"    sampled: {checks['sympy_diff']['sampled']}")
    numbers = [row for row in expected or [] if "computed" in row]
    formulas = [row for row in expected or [] if "computed" not in row]
    out += _number_claims(numbers) + _formula_claims(formulas)
    return no_controls("\n".join(out))  # a claimed formula's comment is the spec's text


def _number_claims(numbers: list[dict]) -> list[str]:
    """The source's numbers beside the computed ones, a row a claim."""
    if not numbers:
        return []
    out: list[str] = []
    mixed = len({claim_rule_key(r) for r in numbers}) > 1
    out += ["", "Claims of the source" + ("" if mixed else f" ({_plain(claim_rule('en', numbers[0]))})")]
    rows = [["claim", "claimed", "computed"] + (["tolerance"] if mixed else []) + [""]]
    for row in numbers:
        verdict = {"ok": "ok", "wrong": "WRONG", "truncated": "truncated, not rounded"}[row["verdict"]]
        verdict += f" at {disagreeing(row)}" if disagreeing(row) else ""
        rule = [_plain(claim_rule_cell("en", row))] if mixed else []
        rows.append([row["key"], *(_plain(c) for c in claim_cells(row)), *rule, verdict])
    out += _table(rows)
    wrong = sum(not r["ok"] for r in numbers)
    truncated = sum(r["verdict"] == "truncated" for r in numbers)
    out.append(f"  {len(numbers) - wrong} of {len(numbers)} claims agree"
               + (f" ({truncated} truncated, not rounded)" if truncated else ""))
    return out


def _formula_claims(formulas: list[dict]) -> list[str]:
    """The source's claims about formulas and structure, with the reason of each verdict."""
    if not formulas:
        return []
    out: list[str] = []
    out += ["", "Claims of the source about formulas and structure"]
    for row in formulas:
        claimed = row["claimed"]
        claimed = ("true" if claimed else "false") if isinstance(claimed, bool) else claimed
        out.append(f"  {row['key']} = {claimed}")
        out.append(f"    {'ok' if row['ok'] else 'WRONG'}: {row['reason']}")
    wrong = sum(not r["ok"] for r in formulas)
    out.append(f"  {len(formulas) - wrong} of {len(formulas)} claims agree")
    return out
