"""A real Jupyter Book (version 1, which builds with Sphinx) with the
``_config.yml`` of docs/sphinx.md: the page ```{symprop} masha_rnn``` builds
with -W and shows the worked solution; the same page over a spec whose claims
are wrong (seed 000's own, L = 5.8475 where it is 6.5625) does not build.

Jupyter Book pins Sphinx 7, so scripts/test installs it with symprop in a
venv of its own, ``.venv-book``; the Sphinx of the main environment builds
the other directive tests (tests/test_sphinx_directive.py).
"""

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DERIVATIONS, ROOT
from tests.test_sphinx_directive import doc_blocks

CONFIG = doc_blocks("```", "yaml")[0]  # docs/sphinx.md's _config.yml
TOC = "format: jb-book\nroot: intro\nchapters:\n  - file: week7\n"


def jupyter_book() -> str:
    found = ROOT / ".venv-book" / "bin" / "jupyter-book"
    if found.exists():
        return str(found)
    if shutil.which("jupyter-book"):
        return shutil.which("jupyter-book")
    reason = "Jupyter Book is not installed (scripts/test installs it in .venv-book)"
    if os.environ.get("SYMPROP_REQUIRE_ENGINES"):
        pytest.fail(reason)
    pytest.skip(reason)


def book(root: Path, page: str, files: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    root.mkdir()
    (root / "_config.yml").write_text(CONFIG, encoding="utf-8")
    (root / "_toc.yml").write_text(TOC, encoding="utf-8")
    (root / "intro.md").write_text("# Week 7\n\nRecurrent networks.\n", encoding="utf-8")
    (root / "week7.md").write_text(page, encoding="utf-8")
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run([jupyter_book(), "build", "-W", "-n", "--keep-going", str(root)],
                          capture_output=True, text=True, timeout=600, env=env)


def page_text(root: Path) -> str:
    raw = (root / "_build" / "html" / "week7.html").read_text("utf-8")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw)))


def test_the_page_builds_with_W_and_shows_the_solution(tmp_path):
    run = book(tmp_path / "book", "```{symprop} masha_rnn\n```\n")
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    text = page_text(tmp_path / "book")
    assert "1 + 1.5625 + 4 = 6.5625" in text  # L = L_1 + L_2 + L_3, seed 000's table
    assert "0.5 - 0.1 \\cdot 1.25 = 0.375" in text  # u⁽¹⁾
    assert "sd-dropdown" in (tmp_path / "book" / "_build" / "html" / "week7.html").read_text("utf-8")
    assert "5.8475" in text[text.index("Проверка"):]  # the source's error, in the appendix only


def test_the_page_with_a_wrong_claim_does_not_build(tmp_path):
    masha = (DERIVATIONS / "masha_rnn.toml").read_text("utf-8")  # a spec file: claims are strict
    run = book(tmp_path / "book", "```{symprop} masha_rnn.toml\n```\n", {"masha_rnn.toml": masha})
    assert run.returncode == 1
    out = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)
    errors = [line for line in out.splitlines() if "ERROR" in line]
    assert len(errors) == 1, errors
    assert "week7.md:1: ERROR: symprop: masha_rnn.toml: 5 claims in [expected] are wrong" in errors[0]
    assert '"loss" = 5.8475, but symprop computes 6.5625' in errors[0]
    assert not (tmp_path / "book" / "_build" / "html" / "week7.html").exists() or \
        "5.8475" not in page_text(tmp_path / "book")
