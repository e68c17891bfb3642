"""The report of ``symprop check`` as plain Unicode text."""

import numpy as np

from ..printing import unicode_name
from .document import no_controls


def _name(problem, key: str) -> str:
    return unicode_name(key, problem.conventions.index_base, problem.sequences | {"L"})


def _number(value) -> str:
    if isinstance(value, np.ndarray):
        if value.shape[1] == 1:
            return "[" + ", ".join(_number(v) for v in value[:, 0]) + "]"
        return "[" + "; ".join(", ".join(_number(v) for v in row) for row in value) + "]"
    return f"{value:.6g}"


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
    out += _check_line("matrix-form formulas, evaluated", checks.get("matrix_form"), lambda r: (
        f": {r['compared']} adjoints and gradients, max abs error {r['max_abs_error']:.1e}"))
    out += _check_line("sympy.diff of the expanded loss", checks.get("sympy_diff"), lambda r: (
        f", at {r['points']} random points: max rel error {r['max_rel_error']:.1e}"))
    numbers = [row for row in expected or [] if "computed" in row]
    formulas = [row for row in expected or [] if "computed" not in row]
    if numbers:
        expected = numbers
        out += ["", f"Claims of the source (tolerance {problem.tolerance:g})"]
        rows = [["claim", "claimed", "computed", ""]]
        for row in expected:
            rows.append([
                row["key"],
                _number(np.asarray(row["claimed"], float)) if isinstance(row["claimed"], list) else _number(row["claimed"]),
                _number(np.asarray(row["computed"], float)) if isinstance(row["computed"], list) else _number(row["computed"]),
                "ok" if row["ok"] else "WRONG",
            ])
        out += _table(rows)
        wrong = sum(not r["ok"] for r in expected)
        out.append(f"  {len(expected) - wrong} of {len(expected)} claims agree")
    if formulas:
        out += ["", "Claims of the source about formulas and structure"]
        for row in formulas:
            claimed = row["claimed"]
            claimed = ("true" if claimed else "false") if isinstance(claimed, bool) else claimed
            out.append(f"  {row['key']} = {claimed}")
            out.append(f"    {'ok' if row['ok'] else 'WRONG'}: {row['reason']}")
        wrong = sum(not r["ok"] for r in formulas)
        out.append(f"  {len(formulas) - wrong} of {len(formulas)} claims agree")
    return no_controls("\n".join(out))  # a claimed formula's comment is the spec's text
