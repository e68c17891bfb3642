"""The command line: every command has help, JSON follows the contract,
SPEC can be a path, a shipped name or standard input."""

import json

import pytest
from click.testing import CliRunner

from symprop.cli import main
from tests.conftest import DERIVATIONS


def invoke(*args, stdin=None):
    return CliRunner().invoke(main, list(args), input=stdin)


def test_every_command_has_help():
    assert main.help
    for name, command in main.commands.items():
        result = invoke(name, "--help")
        assert result.exit_code == 0, name
        assert command.help and len(command.help) > 20, name


def test_list_shows_every_shipped_problem():
    result = invoke("list")
    assert result.exit_code == 0
    for path in DERIVATIONS.glob("*.toml"):
        assert path.stem in result.output


def test_solve_json_follows_the_contract():
    result = invoke("solve", "udl_toy", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data)[:5] == ["title", "loss", "values", "adjoints", "gradients"]
    assert data["title"] == "Обратное распространение ошибки в игрушечной модели"  # the notebook's language
    assert isinstance(data["loss"], float)
    assert all(isinstance(v, float) for v in data["gradients"].values())
    assert data["checks"]["finite_differences"]["passed"] is True
    assert {"key", "claimed", "computed", "ok"} <= set(data["expected"][0])
    assert "updated" not in data  # no lr


def test_solve_with_lr_gives_updated(spec_file):
    text = (DERIVATIONS / "udl_toy.toml").read_text().split("[expected]")[0]
    path = spec_file(text + "[training]\nlr = 0.1\n")
    data = json.loads(invoke("solve", str(path), "--format", "json").stdout)
    assert data["updated"]["omega0"] == pytest.approx(0.1 - 0.1 * 5.246071430989502, rel=1e-12)


def test_stdin_and_path_give_the_same_answer():
    text = (DERIVATIONS / "udl_toy.toml").read_text()
    a = json.loads(invoke("solve", "-", "--format", "json", stdin=text).stdout)
    b = json.loads(invoke("solve", str(DERIVATIONS / "udl_toy.toml"), "--format", "json").stdout)
    assert a == b


def test_output_file_is_written_whole(tmp_path):
    out = tmp_path / "solution.json"
    result = invoke("solve", "udl_toy", "--format", "json", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["title"]
    assert [p.name for p in tmp_path.iterdir()] == ["solution.json"]


def test_output_is_not_touched_on_error(tmp_path, spec_file):
    out = tmp_path / "keep.txt"
    out.write_text("old")
    bad = spec_file("title = 1\n")
    result = invoke("solve", str(bad), "--output", str(out))
    assert result.exit_code == 1
    assert out.read_text() == "old"


def test_derive_text_and_json():
    text = invoke("derive", "masha_backprop", "--lang", "en").stdout
    assert "d      = d·∂h₂/∂o₁·∂o₁/∂h₁ = d·w₂·f'(h₁)" in text
    assert "∂L/∂w₃ = [ŷ - y]·f(w₂·f(w₁·x))" in text
    data = json.loads(invoke("derive", "masha_backprop", "--format", "json").stdout)
    assert set(data["gradients"]) == {"w1", "w2", "w3"}
    assert data["gradients"]["w3"]["adjoint_form"]["text"] == "dL/dyhat*o2"


def test_check_fails_on_a_wrong_claim(spec_file):
    text = (DERIVATIONS / "udl_toy.toml").read_text().replace('"grad.omega0" = 5.246', '"grad.omega0" = 5.3')
    result = invoke("check", str(spec_file(text)))
    assert result.exit_code == 1
    assert "WRONG" in result.stdout and "22 of 23 claims agree" in result.stdout


def test_python_m_symprop_runs():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "symprop", "list"], capture_output=True, text=True)
    assert proc.returncode == 0 and "udl_toy" in proc.stdout
