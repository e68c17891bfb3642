"""The problems shipped in ``derivations/``: listed by name, usable as SPEC."""

import tomllib
from pathlib import Path

from ..errors import SympropError
from .reading import in_language


def derivations_dir() -> Path:
    """The shipped specs: inside the installed package, or the source tree's."""
    package = Path(__file__).parent.parent
    packaged = package / "derivations"
    if packaged.is_dir():
        return packaged
    return package.parent / "derivations"


def reference() -> str:
    """The spec-format reference (docs/spec-format.md, packaged as symprop/spec-format.md)."""
    package = Path(__file__).parent.parent
    for path in (package / "spec-format.md", package.parent / "docs" / "spec-format.md"):
        if path.is_file():
            return path.read_text("utf-8")
    raise SympropError("the spec-format reference is not installed with this copy of symprop")


def shipped() -> dict[str, Path]:
    folder = derivations_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def resolve(spec) -> Path:
    """A path as given, or the shipped spec of that name: a directory never shadows one."""
    path = Path(spec)
    problems = shipped()
    found = problems.get(str(spec))
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except (OSError, ValueError):  # a name too long, say: reading it will say so
        is_dir = exists = False
    if is_dir:
        if found is not None:
            return found
        raise SympropError("is a directory", where=str(spec))
    if exists or path.suffix == ".toml" or "/" in str(spec):
        return path
    if found is None:
        names = ", ".join(problems) or "none"
        raise SympropError(f"no such file or shipped problem (shipped: {names})", where=str(spec))
    return found


def title_of(path: Path, lang: str = "en") -> str:
    """The title a problem lists under: in ``lang`` when it has one by language."""
    try:
        title = tomllib.loads(path.read_text("utf-8")).get("title", "")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "(unreadable)"
    return str(in_language(title, lang) if isinstance(title, dict) else title)
