"""The one error type the library raises for bad input."""

import re

# C0 and C1 controls (newline and tab too: an error is one line), DEL, the line
# and paragraph separators, and the bidi marks that reorder what a terminal shows
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with each control, line-breaking or bidi character written as an
    escape (``\\x1b``, ``\\u202e``), so a terminal or a log shows it and never obeys it."""
    return UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                      else f"\\u{ord(m.group()):04x}", text)


class SympropError(Exception):
    """A problem with the user's input, said in one line.

    The message names the file, the key and what is wrong, so the CLI can
    print it as it is and exit 1; the spec's words in it are escaped (``printable``).
    """

    def __init__(self, message: str, *, where: str | None = None):
        self.where = where
        super().__init__(printable(f"{where}: {message}" if where else message))

    def located(self, where: str) -> "SympropError":
        """The same error, prefixed with a place (file, key) when it has none."""
        if self.where:
            return self
        return SympropError(str(self), where=where)
