"""The problems shipped in ``derivations/``: listed by name, usable as SPEC."""

import tomllib
from pathlib import Path

from ..errors import SympropError


def derivations_dir() -> Path:
    """The shipped specs: inside the installed package, or the source tree's."""
    package = Path(__file__).parent.parent
    packaged = package / "derivations"
    if packaged.is_dir():
        return packaged
    return package.parent / "derivations"


def shipped() -> dict[str, Path]:
    folder = derivations_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def resolve(spec) -> Path:
    """A path as given, or the shipped spec of that name."""
    path = Path(spec)
    if path.exists() or path.suffix == ".toml" or "/" in str(spec):
        return path
    found = shipped().get(str(spec))
    if found is None:
        names = ", ".join(shipped()) or "none"
        raise SympropError(f"no such file or shipped problem (shipped: {names})", where=str(spec))
    return found


def title_of(path: Path) -> str:
    try:
        return str(tomllib.loads(path.read_text("utf-8")).get("title", ""))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "(unreadable)"
