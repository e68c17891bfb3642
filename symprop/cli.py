"""The command line: a thin layer over the library.

Library errors become one line on stderr and exit status 1; usage errors
exit 2 (click's own).  Results go to stdout, nothing else does.
"""

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
import textwrap
from pathlib import Path

import click

from . import __version__, api
from .api import (
    AUDIENCES,
    LANGUAGES,
    check_report,
    read_spec,
    reference,
    resolve,
    shipped,
    strict_json,
    title_of,
)
from .errors import SympropError, printable


def _load(spec: str):
    if spec == "-":
        stdin = getattr(sys.stdin, "buffer", None)  # bytes: decoded as UTF-8, not the locale's
        if stdin is None:
            raise SympropError("cannot read: standard input is closed", where="<stdin>")
        return api.load_spec("<stdin>", text=read_spec(stdin, "<stdin>"))
    return api.load_spec(resolve(spec))


def _run(action, spec: str | None = None):
    """Call the library; turn every failure into one clear line (naming the spec)."""
    try:
        return action()
    except SympropError as e:
        raise click.ClickException(str(e)) from None
    except (RecursionError, MemoryError) as e:
        what = "nested too deeply (Python's recursion limit)" if isinstance(e, RecursionError) else \
            "too large for the memory"
        raise click.ClickException(printable(f"{spec or 'the problem'}: the problem is {what}")) from None
    except click.ClickException:
        raise
    except Exception as e:  # a bug in symprop: still one line, never a traceback
        message = str(e).splitlines()[0] if str(e) else ""
        raise click.ClickException(
            printable(f"internal error ({type(e).__name__}: {message}); please report it with the spec")
        ) from None


def _destination(output: str) -> tuple[str, os.stat_result | None, bool]:
    """Where -o writes (a symlink's final target), what is there, and whether to write in place.

    Devices, FIFOs, /dev/stdout and files with other hard links are written
    in place; anything else is replaced atomically.  OSError when it cannot
    be written.
    """
    if not output:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")
    try:
        st = os.stat(output)
    except FileNotFoundError:
        st = None
    target = os.path.realpath(output)
    if output.endswith("/") or os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "Is a directory")
    if st is not None and not os.access(output, os.W_OK):
        raise PermissionError(errno.EACCES, "Permission denied")
    in_place = st is not None and (
        not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or output.startswith(("/dev/", "/proc/"))
    )
    if not in_place:
        folder = os.path.dirname(target)
        if not os.path.isdir(folder):
            raise FileNotFoundError(errno.ENOENT, "No such directory")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "Permission denied")
    return target, st, in_place


def _write(output: str, data: bytes) -> None:
    """Write the file -o names; a temp file left by any failure is removed."""
    target, st, in_place = _destination(output)
    if in_place:
        with open(output, "wb") as f:
            f.write(data)
        return
    if st is not None:
        mode = stat.S_IMODE(st.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _cannot_write(output: str, e: OSError) -> click.ClickException:
    return click.ClickException(printable(f"{output}: cannot write: {e.strerror or e}"))


def _writable(output: str | None) -> None:
    """Refuse at once, before any work, an output that cannot be written."""
    if output is not None and output != "-":
        try:
            _destination(output)
        except OSError as e:
            raise _cannot_write(output, e) from None


def _print(text: str) -> None:
    """Write to standard output, or fail with one line: closed, full, a broken pipe."""
    if sys.stdout is None:
        raise click.ClickException("standard output: cannot write: it is closed")
    try:
        click.echo(text, nl=False)
        sys.stdout.flush()
    except OSError as e:
        with contextlib.suppress(OSError, ValueError):  # what is still buffered goes nowhere at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise click.ClickException(f"standard output: cannot write: {e.strerror or e}") from None


def _emit(text: str, output: str | None) -> None:
    """Print (no -o, or -o -), or write the file -o names."""
    if output is None or output == "-":
        _print(text)
        return
    try:
        _write(output, text.encode("utf-8"))
    except OSError as e:
        raise _cannot_write(output, e) from None


SPEC = click.argument("spec", metavar="SPEC")
OUTPUT = click.option(
    "--output", "-o", metavar="FILE", help="Write to this file (- for standard output)."
)


EPILOG = f"""\b
A spec in short (the whole reference: symprop spec-format):
  title = "..."                 lang = "en" | "ru" | "zh"
  [model]  params = ["w1", "b"]   functions = ["f"] (left undefined)
           equations = one per line: z = W @ x + b, h[t] = tanh(...),
                       c += a (a new version of c)
           loss = "(y - yhat)**2 / 2"   steps = 3 (recurrent)
  [values] w1 = 0.5   x = [1, 2] (a column)   W = [[1, 2], [3, 4]]
           W = "weights.npz:W" or "x.npy" (a file beside the spec)
  [training] lr = 0.1   [[training.batches]]
  [expected] loss = 0.25   "grad.w1" = -0.1   "value.h[2]" = 0.7
             "grad.W" = [[1, 2], [3, 4]]   "step.2.loss" = 0.3
             "final.loss" = 0.2   "grad.b" = {{ value = 0.36, tol = 1e-4 }}
             "grad.w2" = {{ value = 4.96, digits = 2 }} (printed to 2 decimals)
\b
{textwrap.fill("Functions: " + ", ".join(api.function_names()), 76,
               subsequent_indent="  ")}
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="symprop")
def main():
    """Derive backpropagation symbolically and check every number.

    SPEC is a TOML problem file, the name of a shipped problem (see
    `symprop list`), or - to read the spec from standard input.
    """


@main.command("spec-format")
def spec_format():
    """The reference of the spec format (Markdown): every key, the expression
    language, shapes, recurrent models, claims, limits."""
    _print(_run(reference))


FORMATS = list(api.FORMATS)  # JSON here is the data: the numbers, the derivation, the answer key
FORMAT = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                      help="Output format: a terminal, JSON, LaTeX, MyST (Jupyter Book) or Markdown.")
LANG = click.option("--lang", type=click.Choice(list(LANGUAGES)), default=None,
                    help="Language of the prose (default: the spec's lang).")
AUDIENCE = click.option("--audience", type=click.Choice(list(AUDIENCES)), default="teacher", show_default=True,
                        help="student leaves out the teacher's appendix (the checks and the source's errors).")
DIGITS = click.option("--digits", type=click.IntRange(1, 12), default=None,
                      help="Decimals of a number that is not exact (default 4, or as the source prints them).")
FRACTIONS = click.option("--fractions", is_flag=True, help="Exact numbers as fractions (3/8), not decimals (0.375).")
FLOATS = click.option("--floats", is_flag=True, help="Every number in floating point with --digits decimals, "
                      "even where the inputs and the model give exact ones.")
STANDALONE = click.option("--standalone", is_flag=True,
                          help="With --format latex: a whole document for pdflatex, not a fragment.")


def _document(doc, fmt: str, standalone: bool, output: str | None = None) -> str:
    """The document's text.  Markdown to a file (-o x.md, a regular file): each plot is written
    first, as an SVG file beside it (x-norms.svg), which the text shows as an image; GitHub's view
    strips inline SVG.  To standard output, a device or a pipe, the SVG stays inline."""
    if output is None or output == "-" or not _regular(output):
        return api.render(doc, fmt, standalone=standalone)
    name = os.path.basename(output)
    files = api.render_files(doc, fmt, name, standalone)
    for other, text in files.items():
        if other != name:
            _emit(text, os.path.join(os.path.dirname(output), other))
    return files[name]


def _regular(output: str) -> bool:
    """-o names a regular file, or one not there yet."""
    _, st, _ = _destination(output)
    return st is None or stat.S_ISREG(st.st_mode)


@main.command()
@SPEC
@FORMAT
@LANG
@AUDIENCE
@DIGITS
@FRACTIONS
@FLOATS
@STANDALONE
@OUTPUT
def solve(spec, fmt, lang, audience, digits, fractions, floats, standalone, output):
    """A worked solution: forward pass, derivatives, backward pass, a gradient step, checks.

    Where every input is a short decimal and the model has no transcendental
    function (linear, ReLU, max, abs, powers), the numbers are exact: 0.03125,
    1/3, or 3/8 with --fractions (JSON adds "exact" with every number as "p/q").
    """
    _writable(output)

    def action():
        problem = _load(spec)
        solution = api.numbers(problem, exact=not floats)
        if not floats and fractions and solution.exact is None:
            click.echo("symprop: note: this problem's numbers are not exact (a function such as tanh or exp, or "
                       "answers longer than 10 decimals): --fractions changes nothing", err=True)
        if fmt == "json":
            return strict_json(solution.to_json())
        return _document(api.solution_document(problem, solution, lang, audience, digits, fractions=fractions),
                         fmt, standalone, output)

    _emit(_run(action, spec), output)


@main.command()
@SPEC
@FORMAT
@LANG
@AUDIENCE
@DIGITS
@STANDALONE
@OUTPUT
def derive(spec, fmt, lang, audience, digits, standalone, output):
    """The symbolic derivation: closed forms, shared factors, the backward pass, BPTT, matrix form."""
    _writable(output)

    def action():
        problem = _load(spec)
        if fmt == "json":
            return strict_json(api.derivation_json(problem))
        return _document(api.derivation_document(problem, lang, audience, digits), fmt, standalone, output)

    _emit(_run(action, spec), output)


@main.command()
@SPEC
@click.option("--against", type=click.Choice(list(api.AGAINST)), default="all", show_default=True,
              help="Finite differences, PyTorch autograd (float64), or both (PyTorch where installed).")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default="en", show_default=True,
              help="The language of the report (the reasons the engines give for a formula claim stay English).")
def check(spec, against, lang):
    """Check gradients against finite differences, PyTorch and a source's claims.

    Exits 1 when a check fails or a claim disagrees with the computed number.
    """

    def action():
        problem = _load(spec)
        return check_report(problem, against, lang)

    report, ok = _run(action, spec)
    _print(report)
    if not ok:
        sys.exit(1)


@main.command()
@SPEC
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "tikz", "mermaid"]), default=None,
              help="DOT for Graphviz (the default), SVG (rendered by Graphviz's dot), TikZ or Mermaid; "
              "with --norms, SVG (the default) or TikZ (PGFPlots).")
@click.option("--grad", is_flag=True, help="Label each edge with its local derivative and each node with its "
              "adjoint dL/dnode (numbers when the problem has values).")
@click.option("--unrolled", is_flag=True, help="Draw a recurrent model unrolled over its steps, not as its cell.")
@click.option("--norms", is_flag=True, help="Not the graph: the plot of BPTT, |dL/dh_t| (the norm of a vector "
              "state) of every recurrent state over t, on a log scale.")
@LANG
@OUTPUT
def graph(spec, fmt, grad, unrolled, norms, lang, output):
    """The computational graph as a picture (or, with --norms, the plot of BPTT)."""
    if norms and (grad or unrolled):
        raise click.UsageError("--norms draws a plot, not the graph: it takes no --grad or --unrolled")
    if norms and fmt in ("dot", "mermaid"):
        raise click.UsageError(f"--norms draws svg or tikz (PGFPlots), not {fmt}")
    _writable(output)

    def action():
        if norms:
            return api.draw_norms(_load(spec), fmt or "svg", lang=lang)
        return api.draw(_load(spec), fmt or "dot", grad=grad, unrolled=unrolled, lang=lang)

    _emit(_run(action, spec), output)


@main.command()
@SPEC
@click.option("--target", default="numpy", show_default=True, metavar="numpy|torch|jax",
              help="The library the module uses: numpy (forward and backward written out), torch or jax "
              "(forward written out, gradients by their autograd; recurrences as a loop, lax.scan for jax).")
@OUTPUT
def codegen(spec, target, output):
    """The forward and backward pass as a standalone Python module: forward(values), backward(values)."""
    _writable(output)

    def action():
        return api.codegen(_load(spec), target)

    _emit(_run(action, spec), output)


KEY_SUFFIX = api.SUFFIXES


@main.command()
@SPEC
@click.option("-n", "count", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many variants.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="The same seed gives the same variants, byte for byte.")
@click.option("--output", "-o", "folder", required=True, metavar="DIR",
              help="The folder for the specs (NAME-01.toml, …) and the answer key (key.EXT).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="markdown", show_default=True,
              help="The format of the answer key.")
@LANG
@FRACTIONS
def variants(spec, count, seed, folder, fmt, lang, fractions):
    """Variants of a problem with new numbers: each a spec with its answers in
    [expected], and one answer key. Bounds and step: [variants] in the spec."""

    stem = "variant" if spec == "-" else Path(str(_run(lambda: resolve(spec)))).stem
    names = [f"{stem}-{k:02d}.toml" for k in range(1, count + 1)] + [f"key.{KEY_SUFFIX[fmt]}"]
    _folder_writable(folder, names)

    def action():
        problem = _load(spec)
        drawn = api.Problem(problem).variants(count, seed)
        return drawn.toml(), drawn.key(fmt, lang, fractions, standalone=fmt == "latex")

    specs, key = _run(action, spec)
    header = f"# variant {{}} of {count}: symprop variants {printable(stem)} -n {count} --seed {seed}\n"
    texts = [header.format(k) + text for k, text in enumerate(specs, start=1)] + [key]
    try:
        _write_all(folder, names, texts)
    except OSError as e:
        raise _cannot_write(e.filename or folder, e) from None
    click.echo(printable(f"{count} variants and key.{KEY_SUFFIX[fmt]} written to {folder}"), err=True)


def _folder_writable(folder: str, names: list[str]) -> None:
    """Refuse, before the work, a folder that cannot be written (or, when it
    does not exist yet, the folder that would hold it), and a name in it that
    is a symbolic link or not a regular file: variants write only files of their own."""
    place = folder.rstrip("/") or "/"
    while not os.path.lexists(place):  # the nearest folder that exists
        place = os.path.dirname(place) or "."
    try:
        if not os.path.isdir(place):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory")
        if not os.access(place, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "Permission denied")
    except OSError as e:
        raise _cannot_write(folder, e) from None
    if place != (folder.rstrip("/") or "/"):
        return
    for name in names:
        path = os.path.join(folder, name)
        with contextlib.suppress(FileNotFoundError):
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise click.ClickException(printable(f"{path}: is a symbolic link: variants do not write "
                                                     "through a link they did not make (remove it first)"))
            if not stat.S_ISREG(mode):
                raise _cannot_write(path, IsADirectoryError(errno.EISDIR, "Not a regular file"))


def _write_all(folder: str, names: list[str], texts: list[str]) -> None:
    """Every file, or none: written into a temporary folder (in ``folder``, or
    beside it when it is new), then the folder renamed, or each file moved in."""
    _folder_writable(folder, names)  # again: the folder may have changed during the work
    fresh = not os.path.lexists(folder)
    home = os.path.dirname(os.path.abspath(folder)) if fresh else folder
    os.makedirs(home, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=home, prefix=".symprop-variants-")
    try:
        for name, text in zip(names, texts, strict=True):
            with open(os.path.join(tmp, name), "xb") as f:
                f.write(text.encode("utf-8"))
        if fresh:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)
            os.rename(tmp, folder)
            tmp = None
            return
        for name in names:
            os.replace(os.path.join(tmp, name), os.path.join(folder, name))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@main.command("list")
def list_():
    """The shipped problems, by name."""
    problems = shipped()
    width = max((len(n) for n in problems), default=0)
    _print("".join(f"{name.ljust(width)}  {title_of(path)}\n" for name, path in problems.items()))
