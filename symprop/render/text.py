"""Plain Unicode text for a terminal: the derivation, the numbers, the checks."""

import numpy as np

from ..backprop import Derivation
from ..closed_form import ClosedForms
from ..graph import Graph
from ..numeric import Solution
from ..printing import TextPrinter, unicode_name


def _printer(graph: Graph) -> TextPrinter:
    p = graph.problem
    return TextPrinter(p.conventions.index_base, p.sequences)


def _name(graph: Graph, key: str) -> str:
    p = graph.problem
    return unicode_name(key, p.conventions.index_base, p.sequences | {"L"})


def _number(value) -> str:
    if isinstance(value, np.ndarray):
        if value.shape[1] == 1:
            return "[" + ", ".join(_number(v) for v in value[:, 0]) + "]"
        return "[" + "; ".join(", ".join(_number(v) for v in row) for row in value) + "]"
    return f"{value:.6g}"


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


SHOW_UNROLLED = 6  # steps of a recurrent model shown node by node


def derivation_text(d: Derivation) -> str:
    graph = d.graph
    pr = _printer(graph)
    out = [graph.problem.title, "=" * len(graph.problem.title), ""]
    if graph.cell is not None:
        out += _bptt_text(d, pr)
        if graph.problem.steps > SHOW_UNROLLED:
            return "\n".join(out + _matrix_text(d, pr)) + "\n"
        out += _matrix_text(d, pr)
        out += ["", f"Unrolled over T = {graph.problem.steps} steps", ""]
    out.append("Forward pass (the computational graph, one node a line)")
    for n in graph.nodes:
        out.append(f"  {pr.doprint(n.symbol)} = {pr.doprint(n.expr)}")
    out += ["", "Local derivatives (one per edge of the graph)"]
    shown = set(graph.node_by_symbol()) | set(graph.param_symbols())
    for n in graph.nodes:
        for parent, local in d.local[n.symbol].items():
            if parent in shown and local != 0:
                    out.append(f"  ∂{pr.doprint(n.symbol)}/∂{pr.doprint(parent)} = {pr.doprint(local)}")
    out += ["", "Backward pass: the accumulated derivative of every node, from the loss back"]
    for n in reversed(graph.nodes):
        if n.symbol != graph.loss:
            out.append(f"  {_name(graph, 'dL/d' + n.symbol.name)} = {pr.doprint(d.adjoints[n.symbol])}")
    if graph.cell is None:
        out += _matrix_text(d, pr)
    out += ["", "Gradients"]
    for p in graph.param_symbols():
        out.append(f"  {_name(graph, 'dL/d' + p.name)} = {pr.doprint(d.gradients[p])}")
    forms = ClosedForms(d)
    out += ["", "Gradients in closed form"]
    for p in graph.param_symbols():
        closed = forms.of_adjoint(p)
        shown = pr.doprint(closed) if closed is not None else (
            f"(more than {forms.limit} terms: see the backward pass above)"
        )
        out.append(f"  {_name(graph, 'dL/d' + p.name)} = {shown}")
    return "\n".join(out) + "\n"


def _matrix_text(d: Derivation, pr: TextPrinter) -> list[str]:
    from ..matrix_form import formula_lines, matrix_form

    form = matrix_form(d.graph)
    if form is None:
        return []
    head = "Matrix form, for t = T, ..., 1" if form.recurrent else "Matrix form, from the loss back"
    return ["", head] + formula_lines(form, lambda k: _name(d.graph, k), pr)


def _bptt_text(d: Derivation, pr: TextPrinter) -> list[str]:
    from ..bptt import bptt

    b = bptt(d)
    graph = d.graph
    cell = b.cell
    T = b.steps
    out = [f"The recurrent cell, for t = 1, ..., T (T = {T})"]
    for n in cell.nodes:
        out.append(f"  {pr.doprint(n.symbol)} = {pr.doprint(n.expr)}")
    if any(n.key.startswith("L[") for n in cell.nodes):
        combine = "L₁ + ... + L_T" if b.reduce == "sum" else "(L₁ + ... + L_T) / T"
        out.append(f"  L = {combine}")
    for key, q in graph.quantities.items():
        if q.kind == "initial":
            out.append(f"  {_name(graph, key)} = {pr.doprint(q.value)}  (initial state)")
    out += ["", "Local derivatives of the cell"]
    for n in cell.nodes:
        for parent, local in d.cell_local[n.symbol].items():
            if parent in cell.inputs and cell.inputs[parent][0] not in cell.states:
                continue
            out.append(f"  ∂{pr.doprint(n.symbol)}/∂{pr.doprint(parent)} = {pr.doprint(local)}")
    out += ["", "Backpropagation through time: for t = T, ..., 1 (the terms from step t+1 vanish at t = T)"]
    for r in b.recursions:
        rhs = r.same_step if r.next_step == 0 else r.same_step + r.next_step
        out.append(f"  {_name(graph, 'dL/d' + r.node.name)} = {pr.doprint(rhs)}")
    for state in b.states:
        out.append(
            f"  that is, ∂L/∂{state}ₜ = ∂Lₜ/∂{state}ₜ + ∂L/∂{state}ₜ₊₁·∂{state}ₜ₊₁/∂{state}ₜ: "
            f"the loss at step t, and everything later through {state}ₜ₊₁"
        )
    out += ["", "Gradients: each a sum over t = 1, ..., T"]
    for p in b.params:
        if p.through_time:
            why = (f"needs the sum back through time: {p.name} enters {', '.join(s + 'ₜ' for s in p.states)}, "
                   f"and {', '.join(s + 'ₜ₋₁' for s in p.states)} depends on {p.name} too")
        else:
            why = f"no sum back through time: {p.name} enters no recurrent state"
        out.append(f"  ∂L/∂{pr.doprint(Symbol_(p.name))} = Σₜ {pr.doprint(p.adjoint_form)}")
        out.append(f"      {why}")
    for state, transition in b.transition.items():
        if state not in b.step_loss_grad:
            continue
        through = [p for p in b.params if p.through_time and state in p.immediate]
        if not through:
            continue
        out += ["", f"Unrolled form for the parameters that enter {state}"]
        out.append(
            f"  ∂L/∂p = Σₜ ∂Lₜ/∂p,  ∂Lₜ/∂p = ∂Lₜ/∂{state}ₜ · Σ_(k=1..t) "
            f"(Π_(i=k+1..t) ∂{state}ᵢ/∂{state}ᵢ₋₁) · ∂⁺{state}ₖ/∂p"
        )
        out.append(f"  ∂{state}ₜ/∂{state}ₜ₋₁ = {pr.doprint(transition)}")
        out.append(f"  ∂Lₜ/∂{state}ₜ = {pr.doprint(b.step_loss_grad[state])}")
        for p in through:
            out.append(f"  ∂⁺{state}ₜ/∂{pr.doprint(Symbol_(p.name))} = {pr.doprint(p.immediate[state])}"
                       f"   (∂⁺: {state}ₜ₋₁ held fixed)")
    return out


def Symbol_(name: str):
    from sympy import Symbol

    return Symbol(name, real=True)


def solution_text(s: Solution) -> str:
    graph = s.problem.graph()
    step = s.first
    title = s.problem.title
    out = [title, "=" * len(title), ""]
    if graph.cell is not None and s.problem.steps <= 12:
        out += ["Forward pass, step by step"] + _time_table(s, graph) + [""]
    out.append("Forward pass")
    pr = _printer(graph)
    nodes = {n.key: n for n in graph.nodes if not n.entry}
    rows = []
    for k, v in step.values.items():
        formula = [pr.doprint(nodes[k].expr), "="] if k in nodes else ["", ""]
        rows.append([_name(graph, k), "="] + formula + [_number(v)])
    out += _table(rows) if rows else []
    out += ["", f"Loss  L = {_number(step.loss)}", ""]
    out.append("Backward pass (∂L/∂node)")
    rows = [[_name(graph, "dL/d" + k), "=", _number(v)] for k, v in reversed(step.adjoints.items())]
    out += _table(rows) if rows else []
    out += ["", "Gradients"]
    out += _table([[_name(graph, "dL/d" + k), "=", _number(v)] for k, v in step.gradients.items()])
    if step.updated is not None:
        lr = s.problem.training.lr
        out += ["", f"Gradient descent step (learning rate {lr:g})"]
        for i, st in enumerate(s.steps):
            if len(s.steps) > 1:
                out.append(f"  step {i + 1}: loss {_number(st.loss)}")
            out += _table([[_name(graph, k), "←", _number(v)] for k, v in st.updated.items()])
    if step.kinks:
        relu0 = s.problem.conventions.relu_grad_at_zero
        out += ["", f"Kinks: relu' evaluated exactly at 0 in {', '.join(_name(graph, k) for k in step.kinks)};"
                f" the convention relu'(0) = {relu0:g} is used"]
    out += ["", check_text(s.problem, s.checks, s.expected)]
    return "\n".join(out).rstrip() + "\n"


def _time_table(s: Solution, graph: Graph) -> list[str]:
    """The seed's table: a row for each sequence, a column for each t."""
    T = s.problem.steps
    step = s.first
    names = [q.name for q in graph.cell.quantities.values() if q.step == 0]
    names += sorted(n for n in s.problem.sequences if n not in names and n in s.problem.values)
    initial = {q.name for q in graph.quantities.values() if q.kind == "initial"}
    rows = [["t"] + [str(t) for t in range(T + 1)]]
    for name in names:
        row = [_name(graph, name)]
        for t in range(T + 1):
            key = f"{name}[{t}]"
            if key in step.values:
                row.append(_number(step.values[key]))
            elif name in s.problem.values and t < len(s.problem.values[name]):
                row.append(_number(s.problem.values[name][t]))
            else:
                row.append("-" if t == 0 and name not in initial else "")
        rows.append(row)
    return _table(rows)


def check_text(problem, checks: dict, expected: list | None = None) -> str:
    """The checks: finite differences, sympy.diff, and the source's claims."""
    graph = problem.graph()
    out = ["Checks"]
    fd = checks.get("finite_differences")
    if fd:
        verdict = "passed" if fd["passed"] else "FAILED"
        out.append(f"  finite differences: max abs error {fd['max_abs_error']:.2e}, "
                   f"max rel error {fd['max_rel_error']:.2e}: {verdict}")
        if fd.get("disagree"):
            note = " (at a kink, where finite differences average the two sides)" if fd.get("kinks") else ""
            out.append(f"    disagree: {', '.join(_name(graph, k) for k in fd['disagree'])}{note}")
    else:
        out.append("  finite differences: no [values], so no numbers to check")
    mf = checks.get("matrix_form")
    if mf:
        out.append(
            f"  matrix-form formulas against the scalar engine: {mf['compared']} adjoints and "
            f"gradients, max abs error {mf['max_abs_error']:.1e}: {'passed' if mf['passed'] else 'FAILED'}"
        )
    diff = checks.get("sympy_diff")
    if diff and "skipped" in diff:
        out.append(f"  sympy.diff of the expanded loss: skipped ({diff['skipped']})")
    elif diff:
        out.append(
            f"  sympy.diff of the expanded loss, at {diff['points']} random points: "
            f"max rel error {diff['max_rel_error']:.1e}: {'passed' if diff['passed'] else 'FAILED'}"
        )
    if expected:
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
    return "\n".join(out)
