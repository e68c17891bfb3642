"""Reading a spec: at most MAX_FILE bytes whatever the file claims to be, always UTF-8."""

from pathlib import Path
from typing import BinaryIO

from ..errors import SympropError

MAX_FILE = 1_000_000  # bytes of TOML
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
    if len(raw) > MAX_FILE:
        raise SympropError(f"input is more than {MAX_FILE} bytes (the limit is {MAX_FILE})",
                           where=where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SympropError(f"not UTF-8 text: byte 0x{raw[e.start]:02x} at offset {e.start}",
                           where=where) from None
    return text.removeprefix("\ufeff")


def _bounded(stream: BinaryIO) -> bytes:
    """At most MAX_FILE + 1 bytes of the stream."""
    raw = bytearray()
    while len(raw) <= MAX_FILE:
        chunk = stream.read(min(CHUNK, MAX_FILE + 1 - len(raw)))
        if not chunk:
            break
        raw += chunk
    return bytes(raw)
