"""No path from user text to eval, exec, sympify or parse_expr: the source of
symprop/ calls none of them (ruff's TID251, S102 and S307 say the same in CI)."""

import ast
from pathlib import Path

BANNED = {"eval", "exec", "sympify", "parse_expr", "compile", "__import__"}


def test_symprop_source_calls_no_evaluator():
    root = Path(__file__).resolve().parent.parent / "symprop"
    found = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in BANNED and not (name == "compile" and isinstance(node.func, ast.Attribute)):
                    found.append(f"{path.name}:{node.lineno} {name}")
            if isinstance(node, ast.ImportFrom) and node.module and "parsing" in node.module:
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
    assert found == []
