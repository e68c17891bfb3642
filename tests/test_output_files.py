"""-o writes the file the user names: through symlinks, devices and hard links
in place, keeping modes, never leaving a temp file, refused before any work
when it cannot be written."""

import functools
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from symprop import cli
from symprop.cli import main


def symprop(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symprop", *args], capture_output=True,
                          timeout=60, **kwargs)


def solve_to(path, *more, **kwargs) -> subprocess.CompletedProcess:
    return symprop("solve", "udl_toy", "-o", str(path), *more, **kwargs)


@functools.cache
def expected() -> bytes:
    return symprop("solve", "udl_toy").stdout


def one_line_error(proc, *fragments):
    assert proc.returncode == 1, proc
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("Error: "), err
    for fragment in fragments:
        assert fragment in err, err


def temp_files(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".")]


def test_new_file(tmp_path):
    out = tmp_path / "out.txt"
    proc = solve_to(out)
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""
    assert out.read_bytes() == expected()
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o000, 0o666)])
def test_new_file_gets_the_umask_mode(tmp_path, umask, mode):
    out = tmp_path / "out.txt"
    assert solve_to(out, preexec_fn=lambda: os.umask(umask)).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o664])
def test_overwrite_keeps_the_mode(tmp_path, mode):
    out = tmp_path / "out.txt"
    out.write_text("old")
    out.chmod(mode)
    assert solve_to(out).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode
    assert out.read_bytes() == expected()


def test_symlink_kept_and_its_target_written(tmp_path):
    target = tmp_path / "real" / "target.txt"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert solve_to(link).returncode == 0
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes() == expected()
    assert temp_files(tmp_path) == [] and temp_files(target.parent) == []


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to("new.txt")
    assert solve_to(link).returncode == 0
    assert link.is_symlink() and (tmp_path / "new.txt").read_bytes() == expected()


def test_hard_link_stays_attached(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old " * 10_000)
    os.link(first, second)
    assert solve_to(first).returncode == 0
    assert os.path.samefile(first, second)
    assert second.read_bytes() == expected()


def test_dev_null_stays_a_character_device():
    proc = solve_to("/dev/null")
    assert proc.returncode == 0 and proc.stdout == b"", proc
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_dev_full_is_one_line():
    proc = solve_to("/dev/full")
    one_line_error(proc, "/dev/full: cannot write: No space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_fifo_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    proc = solve_to(fifo)
    reader.join(30)
    assert proc.returncode == 0
    assert got == [expected()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and temp_files(tmp_path) == []


@pytest.mark.parametrize("dash", ["-", "/dev/stdout"])
def test_stdout(dash):
    proc = solve_to(dash)
    assert proc.returncode == 0 and proc.stdout == expected()


def test_dev_stdout_redirected_to_a_file(tmp_path):
    out = tmp_path / "out.txt"
    with open(out, "wb") as f:
        proc = subprocess.run([sys.executable, "-m", "symprop", "solve", "udl_toy", "-o", "/dev/stdout"],
                              stdout=f, timeout=60)
    assert proc.returncode == 0
    assert out.read_bytes() == expected()


@pytest.mark.parametrize("command", [["solve", "lstm"], ["derive", "lstm"], ["graph", "lstm", "--grad"]])
def test_missing_directory_refused_at_once(tmp_path, command):
    start = time.perf_counter()
    proc = symprop(*command, "-o", str(tmp_path / "no" / "such" / "out.txt"))
    elapsed = time.perf_counter() - start
    one_line_error(proc, "no/such/out.txt: cannot write: No such directory")
    assert elapsed < 2.0, elapsed
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", ["solve", "derive", "graph"])
@pytest.mark.parametrize("output, message", [
    ("no/such/out.txt", "No such directory"),
    (".", "Is a directory"),
    ("sub", "Is a directory"),
    ("sub/", "Is a directory"),
    ("new/", "Is a directory"),
    ("file.txt/x", "Not a directory"),
    ("", "No such file or directory"),
])
def test_refused_before_computing(tmp_path, monkeypatch, command, output, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "file.txt").write_text("")

    def computing(spec):
        raise AssertionError("computed before the output was checked")

    monkeypatch.setattr(cli, "_load", computing)
    result = CliRunner().invoke(main, [command, "udl_toy", "-o", output])
    assert result.exit_code == 1, (result.output, result.exception)
    assert result.stderr == f"Error: {output}: cannot write: {message}\n"
    assert sorted(os.listdir(tmp_path)) == ["file.txt", "sub"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory_refused(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    one_line_error(solve_to(folder / "out.txt"), "cannot write: Permission denied")


def limit_file_size(size: int):
    """Run under a file size limit: prlimit where installed, else setrlimit."""
    if shutil.which("prlimit"):
        return {"prefix": ["prlimit", f"--fsize={size}"], "preexec_fn": None}

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return {"prefix": [], "preexec_fn": limit}


def test_failed_write_leaves_no_temp_file_and_the_old_file(tmp_path):
    out = tmp_path / "big.txt"
    out.write_text("old")
    limit = limit_file_size(2000)
    proc = subprocess.run([*limit["prefix"], sys.executable, "-m", "symprop", "solve", "udl_toy",
                           "-o", str(out)], capture_output=True, timeout=60,
                          preexec_fn=limit["preexec_fn"])
    one_line_error(proc, "big.txt: cannot write: File too large")
    assert os.listdir(tmp_path) == ["big.txt"]
    assert out.read_text() == "old"


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError, RuntimeError])
def test_temp_file_removed_on_any_failure(tmp_path, monkeypatch, failure):
    def fail(*args):
        raise failure()

    monkeypatch.setattr(cli.os, "replace", fail)
    with pytest.raises(failure):
        cli._write(str(tmp_path / "out.txt"), b"text")
    assert os.listdir(tmp_path) == []


def test_markdown_to_a_file_writes_each_plot_as_an_svg_beside_it(tmp_path):
    """GitHub's view of Markdown strips inline SVG: -o x.md writes the BPTT plot to x-norms.svg beside it,
    shown as an image with its alt text and followed by its caption (an LSTM's h and c: one plot, one
    file); the graph stays a Mermaid block, which GitHub draws.  To standard output the SVG stays inline,
    and MyST keeps it inline (Jupyter Book shows inline SVG)."""
    import xml.etree.ElementTree as ET

    inline = symprop("solve", "lstm", "--format", "markdown").stdout.decode()
    assert inline.count("<svg") == 1 and "norms.svg" not in inline
    out = tmp_path / "out"
    out.mkdir()
    done = symprop("solve", "lstm", "--format", "markdown", "-o", str(out / "x.md"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["x-norms.svg", "x.md"]
    text = (out / "x.md").read_text(encoding="utf-8")
    svg = (out / "x-norms.svg").read_text(encoding="utf-8")
    alt = ET.fromstring(svg).get("aria-label")
    assert "<svg" not in text and "```mermaid" in text and alt.startswith("A line plot on a log scale")
    image = f"![{alt}](x-norms.svg)"
    assert image in text.replace("\\", "")  # the alt text, its Markdown escapes aside
    after = text.split("(x-norms.svg)\n\n", 1)[1].split("\n\n")[0]
    assert "log scale" in after  # the caption
    assert svg == inline[inline.index("<svg"):inline.index("</svg>") + 6] + "\n"  # the same picture
    myst = symprop("solve", "lstm", "--format", "myst", "-o", str(out / "m.md"))
    assert myst.returncode == 0 and "<svg" in (out / "m.md").read_text(encoding="utf-8")
    assert not (out / "m-norms.svg").exists()


def test_markdown_without_a_plot_or_to_a_device_writes_one_file(tmp_path):
    assert symprop("solve", "udl_toy", "--format", "markdown", "-o", str(tmp_path / "u.md")).returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["u.md"]
    assert symprop("solve", "gru", "--format", "markdown", "-o", "/dev/null").returncode == 0
    assert not os.path.exists("/dev/null-norms.svg")
