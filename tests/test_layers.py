"""The package's structure: layers that import only downward, and no circle.

The layers contract lives in pyproject.toml ([tool.importlinter]); this test
runs import-linter on it and looks for import circles between modules, which
a layers contract alone does not forbid inside one layer.
"""

import ast
import shutil
import subprocess
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).parent.parent


def test_layers_contract_is_kept():
    lint = shutil.which("lint-imports")
    if lint is None:
        pytest.fail("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
    assert "go through symprop.api" in run.stdout  # cli and sphinx import symprop.api and symprop.errors only


def _circles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    modules = sorted(graph.modules)
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for m in modules:
        if m not in index:
            visit(m)
    return groups


def test_no_import_circle():
    graph = grimp.build_graph("symprop")
    assert _circles(graph) == []


def _units(kind):
    for path in sorted((ROOT / "symprop").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, kind):
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", node.end_lineno - node.lineno + 1


def test_functions_stay_short():
    """At most 60 lines a function (complexity is ruff's C901, at most 30: radon's D)."""
    long = [f"{where} ({n} lines)" for where, n in _units(ast.FunctionDef | ast.AsyncFunctionDef) if n > 60]
    assert not long, long


def test_no_function_of_grade_e_or_f():
    """radon's cyclomatic complexity at most D (30) for every function and method in symprop/."""
    from radon.complexity import cc_rank, cc_visit

    tangled = [f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})"
               for path in sorted((ROOT / "symprop").rglob("*.py"))
               for unit in cc_visit(path.read_text(encoding="utf-8"))
               for block in [unit, *getattr(unit, "methods", [])]
               if cc_rank(block.complexity) in ("E", "F")]
    assert not tangled, tangled


def test_classes_stay_small():
    """At most 400 lines a class: a document's builder is a mixin a piece (document/parts/)."""
    big = [f"{where} ({n} lines)" for where, n in _units(ast.ClassDef) if n > 400]
    assert not big, big
