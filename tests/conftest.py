import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DERIVATIONS = ROOT / "derivations"


@pytest.fixture
def spec_file(tmp_path):
    """Write a spec's text to a file and return its path."""

    def write(text: str, name: str = "spec.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def sphinx_src(tmp_path):
    """A Sphinx source folder with the conf.py a MyST document needs."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        'project = "symprop"\nextensions = ["myst_parser", "sphinx_design", "sphinx.ext.graphviz"]\n'
        'myst_enable_extensions = ["dollarmath", "amsmath"]\n'
    )
    return src


def pytest_report_header(config):
    return f"python {sys.version.split()[0]}"
