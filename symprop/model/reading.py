"""Reading a spec: at most MAX_FILE bytes whatever the file claims to be, always
UTF-8; its TOML; and the arrays it names in .npy/.npz files beside it.
NumPy is imported when an array file is read: the command line reads a spec
(and says what is wrong with it) before anything heavy is loaded."""

from __future__ import annotations

import math
import re
import tomllib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..errors import SympropError

if TYPE_CHECKING:
    import numpy as np

MAX_FILE = 1_000_000  # bytes of TOML
MAX_AXES = 6  # the most axes a value may have (N×C×H×W has 4)
CHUNK = 1 << 16


def read_spec(source: str | Path | BinaryIO, where: str | None = None) -> str:
    """The text of a spec read from a path or a binary stream, named ``where`` in messages.

    Reads in chunks and stops after MAX_FILE + 1 bytes, so /dev/zero, a FIFO
    or endless stdin is refused as soon as it passes the limit (``stat`` is
    not trusted).  A leading byte order mark is dropped.
    """
    if where is None:
        where = str(source)
    try:
        if isinstance(source, (str, Path)):
            with open(source, "rb") as stream:
                raw = _bounded(stream)
        else:
            raw = _bounded(source)
    except OSError as e:
        raise SympropError(f"cannot read: {e.strerror}", where=where) from None
    except ValueError:  # open() of a path with a NUL character
        raise SympropError("cannot read: a path cannot hold a NUL character", where=where) from None
    if len(raw) > MAX_FILE:
        raise SympropError(f"input is more than {MAX_FILE} bytes (the limit is {MAX_FILE})",
                           where=where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SympropError(f"not UTF-8 text: byte 0x{raw[e.start]:02x} at offset {e.start}",
                           where=where) from None
    return text.removeprefix("\ufeff")


def load_toml(spec: str | Path, text: str | None = None) -> tuple[dict, Path | None]:
    """The TOML of a spec read from a path (or ``text``, named ``spec`` in
    messages), and the folder its array files are read from (none for text)."""
    origin = str(spec)
    folder = None
    if text is None:
        text = read_spec(spec, origin)
        folder = Path(spec).parent
    if len(text) > MAX_FILE:
        raise SympropError(f"spec is {len(text)} characters (the limit is {MAX_FILE})", where=origin)
    try:
        return tomllib.loads(text), folder
    except tomllib.TOMLDecodeError as e:
        raise SympropError(f"invalid TOML: {e}", where=origin) from None
    except RecursionError:
        raise SympropError("invalid TOML: nested too deeply", where=origin) from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise SympropError(f"invalid TOML: {str(e).split(';')[0].split(':')[0]}", where=origin) from None


def in_language(texts: dict[str, str], lang: str) -> str | None:
    """The text in ``lang``; a plain string (key "") is every language's; else English, else the first."""
    for key in (lang, "", "en"):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()), None)


def _bounded(stream: BinaryIO) -> bytes:
    """At most MAX_FILE + 1 bytes of the stream."""
    raw = bytearray()
    while len(raw) <= MAX_FILE:
        chunk = stream.read(min(CHUNK, MAX_FILE + 1 - len(raw)))
        if not chunk:
            break
        raw += chunk
    return bytes(raw)


MAX_ARRAY_FILE = 64 << 20  # bytes of one .npy/.npz file
ARRAY_REFERENCE = re.compile(r"(?P<path>[^:]+\.(?P<kind>npz|npy))(?::(?P<name>[A-Za-z_][A-Za-z0-9_]*))?\Z")


def read_array(reference: str, folder: Path | None, max_entries: int) -> np.ndarray:
    """The array ``reference`` names: ``"FILE.npy"`` or ``"FILE.npz:NAME"``, a
    path relative to ``folder`` (the spec's) that stays inside it.

    Only the array format is read (``allow_pickle=False``: nothing in the
    file can run); the header's shape and type are checked before any data,
    so a huge or compressed-bomb member is refused unread.  Raises
    SympropError with the reason (the caller adds the key)."""
    m = ARRAY_REFERENCE.match(reference)
    if not m:
        raise SympropError(f"must be a number, a list of numbers or an array file ('FILE.npy' or "
                           f"'FILE.npz:NAME'), got the string {_clip(reference)!r}")
    if folder is None:
        raise SympropError("an array file can only be read for a spec in a file "
                           "(it is looked up beside the spec)")
    relative = Path(m["path"])
    if relative.is_absolute() or ".." in relative.parts:
        raise SympropError(f"{_clip(m['path'])!r} must be a path inside the spec's folder "
                           "(relative, without '..')")
    root = folder.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise SympropError(f"{_clip(m['path'])!r} leads outside the spec's folder")
    if not path.is_file():
        raise SympropError(f"{_clip(m['path'])!r}: no such file beside the spec")
    if path.stat().st_size > MAX_ARRAY_FILE:
        raise SympropError(f"{_clip(m['path'])!r} is larger than {MAX_ARRAY_FILE >> 20} MB")
    try:
        if m["kind"] == "npy":
            if m["name"]:
                raise SympropError(f"{_clip(m['path'])!r} holds one array: write it without ':{m['name']}'")
            with open(path, "rb") as stream:
                return _array(stream, max_entries)
        if not m["name"]:
            raise SympropError(f"{_clip(m['path'])!r} holds named arrays: write '{m['path']}:NAME'")
        with zipfile.ZipFile(path) as archive:
            members = {n.removesuffix(".npy"): n for n in archive.namelist() if n.endswith(".npy")}
            if m["name"] not in members:
                known = ", ".join(sorted(members)) or "none"
                raise SympropError(f"{_clip(m['path'])!r} has no array '{m['name']}' (it has: {_clip(known)})")
            info = archive.getinfo(members[m["name"]])
            if info.file_size > MAX_ARRAY_FILE:
                raise SympropError(f"array '{m['name']}' is larger than {MAX_ARRAY_FILE >> 20} MB")
            with archive.open(info) as stream:
                return _array(stream, max_entries)
    except SympropError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as e:
        raise SympropError(f"{_clip(m['path'])!r} is not a readable NumPy file ({_clip(str(e))})") from None


def _array(stream: BinaryIO, max_entries: int) -> np.ndarray:
    """One array in the .npy format: real numbers, at most two dimensions."""
    import numpy as np

    version = np.lib.format.read_magic(stream)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read_header is None:
        raise ValueError(f".npy format version {version[0]}.{version[1]} is not read")
    shape, _, dtype = read_header(stream)
    if dtype.hasobject or dtype.kind not in "iuf":
        raise SympropError(f"holds {dtype} values; only integers and real floating-point numbers can be read")
    if len(shape) > MAX_AXES:
        raise SympropError(f"is an array of {len(shape)} axes (the most is {MAX_AXES})")
    count = math.prod(shape)
    if count > max_entries:
        raise SympropError(f"has {count} entries (the limit is {max_entries})")
    if count == 0:
        raise SympropError("is an empty array")
    stream.seek(0)
    array = np.lib.format.read_array(stream, allow_pickle=False)
    return np.asarray(array, dtype=np.float64)


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
