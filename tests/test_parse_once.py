"""Each expression is parsed once and every layer reads the same tree: no
reader may change it (one that rewrites it, the column reading, takes a copy)."""

import ast

import symprop
from symprop.api import shipped
from symprop.model.parse import _parsed, parse_syntax


def test_every_layer_reads_one_unchanged_tree():
    _parsed.cache_clear()
    for name in shipped():
        problem = symprop.load(name)
        problem.document("text")
        if problem.spec.values:
            problem.solution(exact=False).document("text")
        for equation in problem.spec.equations:
            assert parse_syntax(equation.text) is parse_syntax(equation.text)
    assert _parsed.cache_info().hits > _parsed.cache_info().misses  # read again, not parsed again
    for text in [t for t in _texts()]:
        assert ast.dump(parse_syntax(text)) == ast.dump(ast.parse(text.strip(), mode="eval")), text


def _texts():
    for name in shipped():
        spec = symprop.load(name).spec
        yield from [e.text for e in spec.equations] + [spec.loss]
