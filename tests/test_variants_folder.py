"""symprop variants -o DIR writes into DIR as -o writes a file: never through
a link it did not make, DIR checked before the work, every file or none, and
the spec's file name escaped in each variant's header (issue 23)."""

import os
import subprocess
import sys
import tomllib

import pytest

from tests.test_output_files import limit_file_size


def variants(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "symprop", "variants", *map(str, args)], capture_output=True,
                          text=True, timeout=120, **kwargs)


def one_line(run, *fragments):
    assert run.returncode == 1 and run.stdout == "" and run.stderr.count("\n") == 1, run
    assert all(f in run.stderr for f in fragments), run.stderr


@pytest.mark.parametrize("planted", ["masha_rnn-02.toml", "key.md"])
def test_a_link_planted_in_the_folder_is_refused_and_its_target_kept(tmp_path, planted):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / planted).symlink_to(victim)
    one_line(variants("masha_rnn", "-n", "3", "-o", folder), f"{planted}: is a symbolic link")
    assert victim.read_text() == "keep me"
    assert sorted(os.listdir(folder)) == [planted]


def test_a_hard_link_in_the_folder_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    folder = tmp_path / "out"
    folder.mkdir()
    os.link(victim, folder / "masha_rnn-01.toml")
    assert variants("masha_rnn", "-n", "1", "-o", folder).returncode == 0
    assert victim.read_text() == "keep me"
    assert tomllib.loads((folder / "masha_rnn-01.toml").read_text("utf-8"))["expected"]


def test_a_folder_that_is_a_file_is_refused_before_the_work(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    # masha_backprop has no numbers: had the work run first, its error would be the one said
    one_line(variants("masha_backprop", "-o", target / "sub"), "cannot write: Not a directory")
    one_line(variants("masha_backprop", "-o", target), "cannot write: Not a directory")
    assert target.read_text() == "x"


def test_a_failed_write_leaves_no_file_in_a_new_folder_nor_a_temporary_one(tmp_path):
    limit = limit_file_size(3400)  # each spec fits (about 3300 bytes), the LaTeX key (about 4200) does not
    folder = tmp_path / "out"
    run = subprocess.run([*limit["prefix"], sys.executable, "-m", "symprop", "variants", "masha_rnn", "-n", "3",
                          "--format", "latex", "-o", str(folder)], capture_output=True, text=True, timeout=120,
                         preexec_fn=limit["preexec_fn"])
    one_line(run, "cannot write: File too large")
    assert os.listdir(tmp_path) == []


def test_a_failed_write_leaves_an_old_folder_as_it_was(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "masha_rnn-01.toml").write_text("old")
    limit = limit_file_size(3400)
    run = subprocess.run([*limit["prefix"], sys.executable, "-m", "symprop", "variants", "masha_rnn", "-n", "3",
                          "--format", "latex", "-o", str(folder)], capture_output=True, text=True, timeout=120,
                         preexec_fn=limit["preexec_fn"])
    one_line(run, "cannot write: File too large")
    assert os.listdir(folder) == ["masha_rnn-01.toml"]
    assert (folder / "masha_rnn-01.toml").read_text() == "old"


def test_a_new_line_in_the_spec_file_name_stays_in_the_comment(tmp_path):
    source = open(os.path.join(os.path.dirname(__file__), "..", "derivations", "masha_rnn.toml"), "rb").read()
    evil = tmp_path / 'evil\nlang = "zh"\n#.toml'
    evil.write_bytes(source)
    folder = tmp_path / "out"
    run = variants(evil, "-n", "2", "-o", folder)
    assert run.returncode == 0, run.stderr
    for path in folder.glob("*.toml"):
        text = path.read_text("utf-8")
        assert text.splitlines()[0].startswith("# variant ") and "evil\\x0alang" in text.splitlines()[0]
        assert tomllib.loads(text).get("lang") == tomllib.loads(source.decode())["lang"]


def test_a_variants_answers_are_called_the_answer_keys_not_a_sources(tmp_path):
    """The answers symprop computed for a variant are under [expected] with computed = true:
    its solution and check call them the answer key's, never the source's."""
    from click.testing import CliRunner

    from symprop.cli import main

    assert CliRunner().invoke(main, ["variants", "udl_toy", "-n", "1", "-o", str(tmp_path / "v")]).exit_code == 0
    spec = str(tmp_path / "v" / "udl_toy-01.toml")
    solution = CliRunner().invoke(main, ["solve", spec, "--lang", "en"]).output
    assert "The answers of the answer key" in solution and "given by the source" not in solution
    report = CliRunner().invoke(main, ["check", spec]).output
    assert "Answers of the answer key" in report and "Claims of the source" not in report
    assert "Claims of the source" in CliRunner().invoke(main, ["check", "udl_toy"]).output
