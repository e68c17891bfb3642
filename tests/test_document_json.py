"""The document as JSON: a renderer of the same document the other formats
print (the registry's "json"), every formula as Unicode text and as LaTeX."""

import json

import pytest

from symprop import api
from symprop.api import shipped


def _maths(blocks):
    for block in blocks:
        for kind, body in block.items():
            if kind == "para":
                yield from (x for x in body if isinstance(x, dict))
            elif kind == "rows":
                yield from (x for row in body for x in row)
            elif kind == "beside":
                yield from (x for row in body["rows"] for x in row)
            elif kind == "table":
                yield from (x for row in [body["header"], *body["rows"]] for x in row if isinstance(x, dict))


@pytest.mark.parametrize("name", shipped())
def test_every_shipped_document_as_json(name):
    problem = api.load(f"derivations/{name}.toml")
    texts = [(problem.document("json", lang="ru"), "ru"), (problem.document("json", lang="zh"), "zh")]
    if problem.spec.values:
        texts.append((problem.solution(exact=False).document("json", lang="en"), "en"))
    for text, lang in texts:
        doc = json.loads(text)
        assert doc["lang"] == lang and doc["parts"]
        blocks = doc["statement"] + [b for p in doc["parts"] for b in p["solution"]]
        maths = list(_maths(blocks))
        assert maths and all(set(m) == {"text", "latex"} and m["text"] and m["latex"] for m in maths)


def test_json_holds_what_the_text_prints():
    """udl_toy's first worked line, as the text document prints it and as LaTeX."""
    solution = api.load("derivations/udl_toy.toml").solution()
    doc = json.loads(solution.document("json", lang="en"))
    text = solution.document("text", lang="en")
    forward = doc["parts"][0]["solution"]
    rows = [r for b in forward if "rows" in b for r in b["rows"]]
    first = " = ".join(x["text"] for x in rows[0])
    assert first == "f₀ = β₀ + ω₀·x = 1 + 0.1·2.3 = 1.2300" and first in text  # a result with its decimals
    assert rows[0][0]["latex"] == "f_{0}" and r"\beta_{0}" in rows[0][1]["latex"]
    assert [p["letter"] for p in doc["parts"]] == ["1", "2", "3"]  # the notebook's steps


def test_a_format_is_one_entry_of_the_registry():
    from symprop.document.render import RENDERERS

    assert api.FORMATS == tuple(RENDERERS) and api.SUFFIXES["json"] == "json"
    with pytest.raises(api.SympropError, match="fmt must be one of text, json, latex, myst, markdown"):
        api.load("derivations/udl_toy.toml").document("html")
