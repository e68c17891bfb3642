"""The spec-format reference travels with symprop: in --help, as a command,
and inside the wheel."""

import subprocess
import sys
import zipfile

from click.testing import CliRunner

from symprop.cli import main
from symprop.model.functions import REDUCTIONS, RULES, STACKING
from tests.conftest import ROOT


def test_help_sums_up_the_spec_and_names_every_function():
    out = CliRunner().invoke(main, ["--help"]).output
    assert "symprop spec-format" in out
    for key in ("[model]", "equations", "[values]", "weights.npz:W", "[expected]", "c += a"):
        assert key in out, key
    listed = " ".join(out.split("Functions:")[1].split())
    for name in {*RULES, *REDUCTIONS, *STACKING}:
        assert name in listed, name
    assert max(len(line) for line in out.splitlines()) <= 80


def test_the_spec_format_command_prints_the_reference():
    run = CliRunner().invoke(main, ["spec-format"])
    assert run.exit_code == 0
    assert run.output == (ROOT / "docs" / "spec-format.md").read_text("utf-8")


def test_the_wheel_carries_the_reference_and_the_problems(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("symprop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "symprop/spec-format.md" in names
    assert "symprop/derivations/udl_toy.toml" in names
